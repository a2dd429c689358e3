import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { Db } from '../../src/db/connect.js'
import { openTestDb } from '../setup/db.js'

/** The Kysely `Database` interface must describe what the migrations built. */
const EXPECTED: Record<string, string[]> = {
  tenant: ['tenant_id', 'name', 'organization_id', 'created_at'],
  resource: ['tenant_id', 'resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content'],
  resource_history: ['tenant_id', 'resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'method', 'content', 'seq'],
  oauth_client: ['tenant_id', 'client_id', 'name', 'secret_hash', 'scope', 'created_at'],
  signing_key: ['kid', 'alg', 'private_jwk', 'public_jwk', 'created_at'],
}

describe('migrations', () => {
  let db: Db
  beforeAll(async () => {
    db = await openTestDb({ poolSize: 1 })
  })
  afterAll(() => db.close())

  it('create exactly the tables and columns of db/database.ts', async () => {
    const tables = await db.db.introspection.getTables()
    const actual = Object.fromEntries(
      tables.filter((t) => !t.name.startsWith('kysely_')).map((t) => [t.name, t.columns.map((c) => c.name).sort()]),
    )
    expect(actual).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, [...v].sort()])))
  })

  it('key every tenant table on tenant_id first', async () => {
    const { rows } = await sql<{ table_name: string; first: string }>`
      SELECT c.relname AS table_name, a.attname AS first
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE i.indisprimary AND c.relname IN ('resource', 'resource_history', 'oauth_client')`.execute(db.db)
    expect(rows.map((r) => r.first)).toEqual(['tenant_id', 'tenant_id', 'tenant_id'])
  })
})
