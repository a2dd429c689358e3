import type { Observation, Parameters, Patient } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INDEX_TABLES } from '../../src/resources/indexing/index-tables.js'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { idsFound, measuredBy, nicknamed, nicknameParam, NICKNAME_URL, post, STRICT, techniqueParam } from '../fixtures/search-params.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'

/**
 * $reindex (src/operations/reindex.ts, engine src/resources/reindex.ts): resources stored before a
 * tenant SearchParameter existed become searchable by it; a background job with progress.
 */
let t: TestApp
beforeAll(async () => {
  // Polls at any rate: the tests watch progress closely.
  t = await buildTestApp({ JOB_MIN_POLL_MS: '0' })
})
afterAll(() => t.close())

/** Kicks off $reindex and returns the job's status path (`/$job/<id>`). */
async function kickOff(tenant: TestTenant, path: string, body?: unknown): Promise<string> {
  const res = await tenant.request('POST', path, { body, headers: { prefer: 'respond-async' } })
  expect(res.statusCode, res.body).toBe(202)
  const location = String(res.headers['content-location'])
  expect(location).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/\\$job/[0-9a-f-]{36}$`))
  return location.slice(`http://fhir.test/fhir/${tenant.tenantId}`.length)
}

/** Polls the job until it leaves 202, collecting each X-Progress; returns the final answer. */
async function pollToEnd(tenant: TestTenant, statusPath: string) {
  const progress: string[] = []
  for (let i = 0; i < 600; i++) {
    const res = await tenant.request('GET', statusPath)
    if (res.statusCode !== 202) return { res, progress }
    progress.push(String(res.headers['x-progress']))
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`job ${statusPath} did not finish`)
}

async function reindex(tenant: TestTenant, path: string, body?: unknown): Promise<Parameters> {
  const { res } = await pollToEnd(tenant, await kickOff(tenant, path, body))
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Parameters>()
}

const count = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name)?.valueInteger
const db = () => t.services.db.db

/** The tenant's current resources (its Organization and audit records included). */
async function currentCount(tenantId: string, type?: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resource
    WHERE tenant_id = ${tenantId} AND NOT deleted AND (${type ?? null}::text IS NULL OR resource_type = ${type ?? null})`.execute(db())
  return rows[0]!.n
}

/** Stores `n` Patients through the bulk path (fast seeding). */
async function seedPatients(tenant: TestTenant, n: number): Promise<void> {
  const items = Array.from({ length: n }, (_, i) => ({ mode: 'create' as const, resource: makePatient({ name: [{ family: `F${i}` }] }) }))
  const outcomes = await t.services.repo.writeMany({ tenantId: tenant.tenantId }, items)
  expect(outcomes.filter((o) => o.status !== 'created')).toEqual([])
}

describe('$reindex', () => {
  it('makes Patients stored before the SearchParameter findable (type level), reporting counts', async () => {
    const tenant = await t.newTenant()
    const before = await post(tenant, nicknamed('Pepe'))
    await post(tenant, nicknamed('Lola'))
    await post(tenant, makeObservation())
    await post(tenant, nicknameParam())
    const after = await post(tenant, nicknamed('Pepito'))
    expect(await idsFound(tenant, '/Patient?nickname=pep', STRICT)).toEqual([after.id])
    const result = await reindex(tenant, '/Patient/$reindex')
    expect(result.resourceType).toBe('Parameters')
    expect([count(result, 'total'), count(result, 'reindexed'), count(result, 'skipped')]).toEqual([3, 3, 0])
    expect(result.parameter?.filter((p) => p.name === 'type')).toEqual([{ name: 'type', part: [{ name: 'name', valueCode: 'Patient' }, { name: 'reindexed', valueInteger: 3 }] }])
    expect(await idsFound(tenant, '/Patient?nickname=pep', STRICT)).toEqual([before.id, after.id].sort())
  })

  it('walks every type at system level, or the types named by the `type` parameter', async () => {
    const tenant = await t.newTenant()
    const pepe = await post(tenant, nicknamed('Pepe'))
    const heard = await post(tenant, measuredBy('37931006'))
    await post(tenant, nicknameParam())
    await post(tenant, techniqueParam())
    const onlyObservations = await reindex(tenant, '/$reindex', { resourceType: 'Parameters', parameter: [{ name: 'type', valueCode: 'Observation' }] })
    expect([count(onlyObservations, 'total'), count(onlyObservations, 'reindexed')]).toEqual([1, 1])
    expect(await idsFound(tenant, '/Observation?technique=37931006', STRICT)).toEqual([heard.id])
    expect(await idsFound(tenant, '/Patient?nickname=pepe', STRICT)).toEqual([])
    const everything = await currentCount(tenant.tenantId)
    const all = await reindex(tenant, '/$reindex')
    // Every current resource: the Patient, the Observation, the SearchParameters, the tenant's Organization...
    expect([count(all, 'total'), count(all, 'reindexed')]).toEqual([everything, everything])
    expect(await idsFound(tenant, '/Patient?nickname=pepe', STRICT)).toEqual([pepe.id])
  })

  it('reports progress on each poll until complete (X-Progress: reindexing <type>; n of total done)', async () => {
    const tenant = await t.newTenant()
    await post(tenant, nicknameParam())
    await seedPatients(tenant, 1200)
    const { res, progress } = await pollToEnd(tenant, await kickOff(tenant, '/Patient/$reindex'))
    expect(res.statusCode, res.body).toBe(200)
    expect(count(res.json<Parameters>(), 'reindexed')).toBe(1200)
    expect(progress.length).toBeGreaterThan(0)
    // A poll between the last batch and the job's end sees the final count with the message 'completed'.
    for (const p of progress) expect(p).toMatch(/^(accepted|in-progress): (reindexing Patient; |completed; )?\d+ (of 1200 )?done$/)
  })

  it('writes exactly the index rows a normal write does, in every index table', async () => {
    const tenant = await t.newTenant()
    const patient = await post(tenant, makePatient({ identifier: [{ system: 'urn:mrn', value: '42' }], address: [{ city: 'Córdoba' }] }))
    const observation: Observation = makeObservation({
      subject: { reference: `Patient/${patient.id}` },
      effectivePeriod: { start: '2024-05-01T10:00:00Z', end: '2024-05-01T11:00:00Z' },
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80.5, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
      instantiatesCanonical: undefined,
    } as Partial<Observation>)
    await post(tenant, observation)
    const before = await indexRows(tenant.tenantId)
    expect(before.length).toBeGreaterThan(40)
    const result = await reindex(tenant, '/$reindex')
    expect(count(result, 'reindexed')).toBe(await currentCount(tenant.tenantId))
    expect(await indexRows(tenant.tenantId)).toEqual(before)
  })

  it('keeps the newest version’s rows for resources updated while the walk runs', async () => {
    const tenant = await t.newTenant()
    const scope = { tenantId: tenant.tenantId }
    const patients: Patient[] = []
    for (const outcome of await t.services.repo.writeMany(scope, Array.from({ length: 240 }, (_, i) => ({ mode: 'create' as const, resource: nicknamed(`old${i}`) })))) {
      if (outcome.status !== 'created') throw new Error('seed failed')
      patients.push(outcome.resource as Patient)
    }
    // Stored before the parameter: the walk inserts their nickname rows, racing the writers.
    await post(tenant, nicknameParam())
    const newest = new Map<string, string>()
    // Writers update every patient over and over (each update a new nickname) while the walk runs
    // in small batches, so writes land before, during and after each batch's replace statement.
    let walking = true
    const writer = async (offset: number) => {
      for (let round = 0; walking || round === 0; round++) {
        for (let i = offset; i < patients.length; i += 8) {
          const nickname = `new${i}r${round}`
          const written = await t.services.repo.update(scope, { ...patients[i]!, extension: [{ url: NICKNAME_URL, valueString: nickname }] })
          patients[i] = written.resource as Patient
          newest.set(patients[i]!.id!, nickname)
        }
      }
    }
    const writers = [0, 1, 2, 3, 4, 5, 6, 7].map(writer)
    const result = await t.services.repo.reindex(scope, { types: ['Patient'], batchSize: 40 })
    walking = false
    await Promise.all(writers)
    expect(result.reindexed + result.skipped).toBe(240)
    const { rows } = await sql<{ id: string; value: string }>`
      SELECT id, exact AS value FROM search_string WHERE tenant_id = ${tenant.tenantId} AND resource_type = 'Patient' AND param = 'nickname'`.execute(db())
    expect(rows.length).toBe(240)
    for (const row of rows) expect(row.value).toBe(newest.get(row.id))
    expect(await idsFound(tenant, '/Patient?nickname=old', STRICT)).toEqual([])
  })

  it('never reads or writes another tenant’s rows', async () => {
    const tenant = await t.newTenant()
    const other = await t.newTenant()
    await post(other, nicknameParam())
    await post(other, nicknamed('Pepe'))
    await post(tenant, nicknamed('Pepe'))
    await post(tenant, nicknameParam())
    const snapshot = () => sql<{ t: string }>`SELECT string_agg(xmin::text || ctid::text, ',' ORDER BY id) AS t FROM resource WHERE tenant_id = ${other.tenantId}`.execute(db())
    const otherBefore = [(await snapshot()).rows[0]?.t, await indexRows(other.tenantId)]
    await reindex(tenant, '/$reindex')
    expect([(await snapshot()).rows[0]?.t, await indexRows(other.tenantId)]).toEqual(otherBefore)
    expect(await idsFound(tenant, '/Patient?nickname=pepe', STRICT)).toHaveLength(1)
  })

  it('drops the index rows of a deleted SearchParameter', async () => {
    const tenant = await t.newTenant()
    const sp = await post(tenant, nicknameParam())
    await post(tenant, nicknamed('Pepe'))
    expect((await tenant.request('DELETE', `/SearchParameter/${sp.id}`)).statusCode).toBe(204)
    const nicknames = () => sql<{ n: number }>`SELECT count(*)::int AS n FROM search_string WHERE tenant_id = ${tenant.tenantId} AND param = 'nickname'`.execute(db())
    expect((await nicknames()).rows[0]?.n).toBe(1)
    await reindex(tenant, '/Patient/$reindex')
    expect((await nicknames()).rows[0]?.n).toBe(0)
  })

  it('stops between batches when its signal aborts', async () => {
    const tenant = await t.newTenant()
    await seedPatients(tenant, 30)
    const controller = new AbortController()
    const result = await t.services.repo.reindex({ tenantId: tenant.tenantId }, { types: ['Patient'], batchSize: 10, signal: controller.signal, onProgress: () => controller.abort() })
    expect(result).toMatchObject({ cancelled: true, done: 10, total: 30, reindexed: 10 })
  })

  it('answers 202 to DELETE on the job, which is then gone', async () => {
    const tenant = await t.newTenant()
    await seedPatients(tenant, 600)
    const statusPath = await kickOff(tenant, '/Patient/$reindex')
    expect((await tenant.request('DELETE', statusPath)).statusCode).toBe(202)
    expectOutcome(await tenant.request('GET', statusPath), { status: 404, code: 'not-found' })
  })

  it('answers 400 naming the parameter for an unknown type or parameter, and 405 for GET', async () => {
    const tenant = await t.newTenant()
    const badType = await tenant.request('POST', '/$reindex', { body: { resourceType: 'Parameters', parameter: [{ name: 'type', valueCode: 'Patinet' }] } })
    expect(expectOutcome(badType, { status: 400, code: 'invalid', diagnostics: /'Patinet' is not an R4 resource type/ }).issue?.[0]?.expression).toEqual(['type'])
    const badName = await tenant.request('POST', '/$reindex', { body: { resourceType: 'Parameters', parameter: [{ name: 'batch', valueInteger: 3 }] } })
    expect(expectOutcome(badName, { status: 400, code: 'invalid' }).issue?.[0]?.expression).toEqual(['Parameters.parameter[0]'])
    expectOutcome(await tenant.request('POST', '/Patient/$reindex?type=Observation'), { status: 400, code: 'invalid' })
    expectOutcome(await tenant.request('POST', '/$reindex', { body: makePatient() }), { status: 400, code: 'invalid' })
    expectOutcome(await tenant.request('GET', '/Patient/$reindex'), { status: 405, code: /not-supported|processing/ })
  })
})

/** Every index row of a tenant, as sorted text per table (what a write or a reindex produced). */
async function indexRows(tenantId: string): Promise<string[]> {
  const out: string[] = []
  for (const table of INDEX_TABLES) {
    const { rows } = await sql<{ r: string }>`SELECT (t.*)::text AS r FROM ${sql.table(table)} t WHERE tenant_id = ${tenantId}`.execute(db())
    out.push(...rows.map((row) => `${table} ${row.r}`))
  }
  return out.sort()
}
