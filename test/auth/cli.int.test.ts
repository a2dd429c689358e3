import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, inject, it } from 'vitest'
import { freshTenantId } from '../setup/db.js'

/** The auth commands of the CLI (src/auth-commands.ts), run as a process against the test database. */
const run = promisify(execFile)

async function cli(...args: string[]) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: inject('databaseUrl'), DB_POOL_SIZE: '1', LOG_LEVEL: 'silent' },
    timeout: 60_000,
  })
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null')
}

describe('CLI', () => {
  it('creates a tenant, a public client, an account and a membership, and lists it', async () => {
    const tenant = freshTenantId('cli')
    await cli('tenant', 'create', tenant, '--name', 'CLI clinic')
    const client = await cli('client', 'create', '--tenant', tenant, '--name', 'Mobile', '--type', 'public', '--scope', 'launch/patient patient/*.rs', '--redirect-uri', 'https://app.example/cb')
    expect(client.client_id).toBeTruthy()
    expect(client.client_secret).toBeUndefined()
    const email = `${tenant}@example.org`
    const account = await cli('account', 'create', '--email', email, '--password', 'a long enough password')
    expect(account.account_id).toBeTruthy()
    const membership = await cli('membership', 'set', '--tenant', tenant, '--login', email, '--role', 'tenant-admin')
    expect(membership).toMatchObject({ account_id: account.account_id, role: 'tenant-admin' })
    expect(await cli('membership', 'list', '--tenant', tenant)).toEqual([{ account_id: account.account_id, role: 'tenant-admin', fhir_user: null }])
  }, 120_000)

  it('exits non-zero for a membership in a tenant that does not exist', async () => {
    await expect(cli('membership', 'set', '--tenant', 'no-such-tenant', '--account', 'x', '--role', 'god')).rejects.toMatchObject({ code: 1 })
  }, 120_000)
})
