import type { Observation, Patient, Questionnaire, RiskAssessment } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestScope } from '../../../src/resources/index.js'
import { matchIds, openSearchFixture, seed, type SearchFixture } from './search-fixture.js'

/** The value tables whose rows carry the lookup key (migrations/0019_lookup_key.sql). */
const KEYED = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri']

const patient = (family: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: 'urn:mrn', value: family }],
  name: [{ family, given: ['Ana'] }],
  birthDate: '1980-02-03',
  telecom: [{ system: 'email', value: `${family}@example.org` }],
})

const observation = (subject: string, value: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: `Patient/${subject}` },
  effectiveDateTime: '2024-05-01T10:00:00Z',
  valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  contained: [{ resourceType: 'Practitioner', id: 'pr', name: [{ family: 'Inner' }] }],
  performer: [{ reference: '#pr' }],
} as Observation)

describe('search: the lookup key of every index row', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  /** Per keyed table: its rows of the tenant, and those whose key is not search_key(tenant, type, param). */
  async function keyCounts(scope: RequestScope): Promise<Record<string, { rows: number; wrong: number }>> {
    const out: Record<string, { rows: number; wrong: number }> = {}
    for (const table of KEYED) {
      const { rows } = await sql<{ rows: number; wrong: number }>`SELECT count(*)::int AS rows,
          count(*) FILTER (WHERE pkey <> search_key(tenant_id, resource_type, param))::int AS wrong
        FROM ${sql.table(table)} WHERE tenant_id = ${scope.tenantId}`.execute(f.db.db)
      out[table] = rows[0]!
    }
    return out
  }

  it('is written by single writes, bulk writes, transactions and $reindex alike, and finds the rows', async () => {
    const scope = await f.newTenant()
    const [p1] = await seed(f.repo, scope, [patient('Single')])
    await f.repo.update(scope, { ...patient('Updated'), id: p1 })
    const questionnaire: Questionnaire = { resourceType: 'Questionnaire', status: 'active', url: 'http://example.org/q' }
    const bulk = await f.repo.writeMany(scope, [
      { mode: 'create', resource: patient('Bulk') },
      { mode: 'create', resource: observation(p1!, 72) },
      { mode: 'create', resource: questionnaire },
    ])
    expect(bulk.map((o) => o.status)).toEqual(['created', 'created', 'created'])
    const risk: RiskAssessment = { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${p1}` }, prediction: [{ probabilityDecimal: 0.4 }] }
    await f.repo.transaction(scope, async (tx) => {
      await tx.create(scope, observation(p1!, 90))
      await tx.create(scope, risk)
    })
    const written = await keyCounts(scope)
    for (const table of KEYED) expect(written[table]!.rows, table).toBeGreaterThan(0)
    expect(Object.values(written).map((c) => c.wrong)).toEqual(KEYED.map(() => 0))

    // $reindex rewrites what was deleted, with the same keys.
    await sql`DELETE FROM search_quantity WHERE tenant_id = ${scope.tenantId}`.execute(f.db.db)
    await sql`DELETE FROM search_token WHERE tenant_id = ${scope.tenantId} AND resource_type = 'Observation'`.execute(f.db.db)
    expect((await f.repo.reindex(scope, { types: ['Observation'] })).reindexed).toBe(2)
    expect(await keyCounts(scope)).toEqual(written)

    // Each parameter type, and a contained resource's rows, found through the keyed indexes.
    const obs = (await matchIds(f.repo, scope, 'Observation', 'code=http://loinc.org|8867-4')).sort()
    expect(obs).toHaveLength(2)
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=gt80')).toHaveLength(1)
    expect((await matchIds(f.repo, scope, 'Observation', `subject=Patient/${p1}&date=2024-05`)).sort()).toEqual(obs)
    expect(await matchIds(f.repo, scope, 'Questionnaire', 'url=http://example.org/q')).toHaveLength(1)
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=0.4')).toHaveLength(1)
    expect((await matchIds(f.repo, scope, 'Practitioner', 'family=inner&_contained=true')).sort()).toEqual(obs)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=updated&birthdate=1980-02-03')).toEqual([p1])
    expect(await matchIds(f.repo, scope, 'Patient', 'family=single')).toEqual([])
  })

  it('differs between tenants, so one tenant never reads another\'s rows by key', async () => {
    const [a, b] = [await f.newTenant(), await f.newTenant()]
    const [inA] = await seed(f.repo, a, [patient('Twin')])
    const [inB] = await seed(f.repo, b, [patient('Twin')])
    const keysOf = async (scope: RequestScope) =>
      (await sql<{ pkey: string }>`SELECT DISTINCT pkey::text FROM search_string WHERE tenant_id = ${scope.tenantId}`.execute(f.db.db)).rows.map((r) => r.pkey)
    const [ka, kb] = [await keysOf(a), await keysOf(b)]
    expect(ka.length).toBeGreaterThan(0)
    expect(ka.filter((k) => kb.includes(k))).toEqual([])
    expect(await matchIds(f.repo, a, 'Patient', 'family=twin')).toEqual([inA])
    expect(await matchIds(f.repo, b, 'Patient', 'family=twin')).toEqual([inB])
  })
})
