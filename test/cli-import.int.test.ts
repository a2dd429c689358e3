import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Db } from '../src/db/connect.js'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository } from '../src/resources/index.js'
import { makeObservation, makePatient } from './fixtures/builders.js'
import { freshTenantId, openTestDb } from './setup/db.js'

/** `npm run cli -- import` (src/import-command.ts), run as a process on a temporary folder. */
interface CliRun {
  code: number
  stdout: string
  stderr: string
}

function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { env: { PATH: process.env.PATH, DATABASE_URL: inject('databaseUrl'), DB_POOL_SIZE: '1', LOG_LEVEL: 'silent' }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

const summaryOf = (run: CliRun) => JSON.parse(run.stdout.trim().split('\n').pop() ?? 'null') as {
  files: { input: string; lines: number; created: number; updated: number; unchanged: number; failed: number; failures: { line: number; reason: string }[] }[]
  totals: { created: number; updated: number; unchanged: number; failed: number }
}

describe('CLI import', () => {
  let db: Db
  let repo: Repository
  let folder: string

  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb({ poolSize: 2 })
    repo = createPgRepository({ db: db.db })
    folder = mkdtempSync(join(tmpdir(), 'segimed-cli-import-'))
  })
  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true })
    await db.close()
  })

  const countOf = async (tenantId: string, type: string) => (await repo.search({ tenantId }, { resourceType: type, params: [['_summary', 'count']] })).total

  it('imports a folder of .ndjson.gz and .json files, reports the broken lines by number, exits 1; a re-import creates nothing', async () => {
    const tenantId = freshTenantId('cli-import')
    await createTenantStore(db.db, repo).ensure(tenantId, 'CLI import clinic')
    const dir = join(folder, tenantId)
    mkdirSync(join(dir, 'nested'), { recursive: true })
    const patientLines = [
      JSON.stringify(makePatient({ identifier: [{ system: 'urn:mrn', value: '1' }], name: [{ family: 'Uno' }] })),
      JSON.stringify(makePatient({ identifier: [{ system: 'urn:mrn', value: '2' }], name: [{ family: 'Dos' }] })),
      '{"resourceType": "Patient", "name": [ broken',
      JSON.stringify(makePatient({ identifier: [{ system: 'urn:mrn', value: '3' }], birthDate: 'not-a-date' })),
      '',
      JSON.stringify(makePatient({ identifier: [{ system: 'urn:mrn', value: '4' }], name: [{ family: 'Cuatro' }] })),
    ]
    writeFileSync(join(dir, 'Patient.ndjson.gz'), gzipSync(patientLines.join('\n') + '\n'))
    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:7d1ecf0a-0000-4000-8000-000000000001', resource: makePatient({ name: [{ family: 'EnBundle' }] }), request: { method: 'POST', url: 'Patient' } },
        { resource: makeObservation({ subject: { reference: 'urn:uuid:7d1ecf0a-0000-4000-8000-000000000001' } }), request: { method: 'POST', url: 'Observation' } },
      ],
    }
    writeFileSync(join(dir, 'nested', 'bundle.json'), JSON.stringify(transaction))
    writeFileSync(join(dir, 'nested', 'observation.json'), JSON.stringify(makeObservation({ id: 'obs-from-file' })))
    writeFileSync(join(dir, 'notes.txt'), 'not imported')
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ generator: 'synthea', files: 2 }))

    const first = await cli('import', '--tenant', tenantId, dir)
    expect(first.code, first.stderr).toBe(1)
    const summary = summaryOf(first)
    const byName = Object.fromEntries(summary.files.map((f) => [f.input.slice(dir.length + 1), f]))
    expect(Object.keys(byName).sort()).toEqual(['Patient.ndjson.gz', 'manifest.json', 'nested/bundle.json', 'nested/observation.json'])
    expect(byName['manifest.json']).toMatchObject({ lines: 1, created: 0, failed: 1 })
    expect(byName['manifest.json']!.failures[0]!.reason).toBe('Not a FHIR resource: the JSON object has no resourceType')
    expect(byName['Patient.ndjson.gz']).toMatchObject({ lines: 5, created: 3, failed: 2 })
    expect(byName['Patient.ndjson.gz']!.failures.map((f) => f.line)).toEqual([3, 4])
    expect(byName['Patient.ndjson.gz']!.failures[0]!.reason).toMatch(/Not valid JSON/)
    expect(byName['Patient.ndjson.gz']!.failures[1]!.reason).toMatch(/birthDate/)
    expect(byName['nested/bundle.json']).toMatchObject({ lines: 2, created: 2, failed: 0 })
    expect(byName['nested/observation.json']).toMatchObject({ lines: 1, created: 1, failed: 0 })
    expect(first.stderr).toContain(`${join(dir, 'Patient.ndjson.gz')}:3: Not valid JSON`)
    expect(await countOf(tenantId, 'Patient')).toBe(4)
    expect(await countOf(tenantId, 'Observation')).toBe(2)
    const observation = JSON.parse((await repo.read({ tenantId }, 'Observation', 'obs-from-file')).json)
    expect(observation.status).toBe('final')

    // The NDJSON file again, alone: identifiers match, nothing new, nothing failed but the two bad lines.
    const again = await cli('import', '--tenant', tenantId, join(dir, 'Patient.ndjson.gz'), join(dir, 'nested', 'observation.json'))
    const repeat = summaryOf(again)
    expect(repeat.totals).toMatchObject({ created: 0, updated: 0, unchanged: 4, failed: 2 })
    expect(await countOf(tenantId, 'Patient')).toBe(4)
  }, 180_000)

  it('exits 0 when every line is imported, and 1 with a clear message for an unknown tenant', async () => {
    const tenantId = freshTenantId('cli-import')
    await createTenantStore(db.db, repo).ensure(tenantId, 'CLI import clinic')
    const file = join(folder, `${tenantId}.ndjson`)
    writeFileSync(file, `${JSON.stringify(makePatient({ id: 'p-1' }))}\n${JSON.stringify(makeObservation({ subject: { reference: 'Patient/p-1' } }))}\n`)
    const ok = await cli('import', '--tenant', tenantId, file)
    expect(ok.code, ok.stderr).toBe(0)
    expect(summaryOf(ok).totals).toMatchObject({ created: 2, failed: 0 })
    expect((await repo.read({ tenantId }, 'Patient', 'p-1')).versionId).toBe('1')
    const unknown = await cli('import', '--tenant', 'no-such-clinic', file)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/Tenant 'no-such-clinic' is not known/)
  }, 180_000)
})
