import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { sql } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import { r4SearchParamRegistry } from '../../../src/resources/index.js'
import { compilePageQuery, parseSearchRequest, planSearch } from '../../../src/resources/search/index.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

/** Chained parameters — https://hl7.org/fhir/R4/search.html#chaining */
describe('search: chained parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  /** Two patients, a group and a location named alike, an organization, and observations on each. */
  async function world() {
    const scope = await f.newTenant()
    const [org] = await seed(f.repo, scope, [{ resourceType: 'Organization', name: 'Clínica Norte' }])
    const [peter, maria, group, location] = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ family: 'Peterson', given: ['Peter'] }], managingOrganization: { reference: `Organization/${org}` } },
      { resourceType: 'Patient', name: [{ family: 'Pérez', given: ['María'] }], gender: 'female' },
      { resourceType: 'Group', type: 'person', actual: true, name: 'Peter group' },
      { resourceType: 'Location', name: 'Peterborough ward' },
    ] as Resource[])
    const obs = (subject: string): Resource => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: subject } })
    const ids = await seed(f.repo, scope, [obs(`Patient/${peter}`), obs(`Patient/${maria}`), obs(`Group/${group}`), obs(`Location/${location}`), obs('Patient/unknown')])
    return { scope, org: org!, peter: peter!, maria: maria!, ids }
  }

  it('searches every target type that has the parameter when the reference is not qualified', async () => {
    const { scope, ids } = await world()
    // subject targets Group, Device, Patient and Location; only Patient and Location have `name`.
    expect(await matchIds(f.repo, scope, 'Observation', 'subject.name=peter')).toEqual(pick(ids, 0, 3))
  })

  it('restricts to one type with subject:Patient.name and applies string semantics (accents, case)', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.name=peter')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.name=PEREZ')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'patient.name=maría,peter')).toEqual(pick(ids, 0, 1))
  })

  it('applies a modifier at the end of the chain: name:exact, gender:not, name:missing', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.family:exact=Pérez')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.family:exact=Perez')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.gender:not=female')).toEqual(pick(ids, 0))
    // A reference to a patient that does not exist never matches, even through :missing.
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.gender:missing=true')).toEqual(pick(ids, 0))
  })

  it('follows several levels: subject:Patient.organization.name', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.organization.name=clinica')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.organization.name=sur')).toEqual([])
  })

  it('ANDs repeated chains and combines them with plain parameters', async () => {
    const { scope, ids, peter } = await world()
    expect(await matchIds(f.repo, scope, 'Observation', `subject.name=peter&subject:Patient._id=${peter}`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject.name=peter&subject.name=peterborough')).toEqual(pick(ids, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject.name=peter&status=final')).toEqual(pick(ids, 0, 3))
  })

  it('never matches through deleted or superseded versions of the target', async () => {
    const { scope, peter, maria, ids } = await world()
    await f.repo.update(scope, { resourceType: 'Patient', id: peter, name: [{ family: 'Renamed' }] })
    await f.repo.delete(scope, 'Patient', maria)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.name=peter')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.name=renamed')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.name=maria')).toEqual([])
  })

  it("never matches another tenant's targets", async () => {
    const { scope } = await world()
    const other = await f.newTenant()
    const [p] = await seed(f.repo, other, [{ resourceType: 'Patient', name: [{ given: ['Zed'] }] }])
    await seed(f.repo, scope, [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p}` } }])
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient.name=zed')).toEqual([])
  })

  it('answers 400 naming the parameter when no target type has it, for a non-reference head and a bad qualifier', async () => {
    const { scope } = await world()
    const bad = async (query: string, text: RegExp, strict = false) =>
      expect(search(f.repo, scope, 'Observation', query, { strict })).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(text) })
    await bad('subject.foo=x', /subject\.foo.*no target type of subject/)
    await bad('subject.foo=x', /subject\.foo/, true)
    await bad('status.name=x', /status\.name.*only reference parameters/)
    await bad('subject:Organization.name=x', /Organization is not a resource type subject can refer to/)
    await bad('subject:Patient.birthdate=notadate', /subject:Patient\.birthdate/)
  })

  it('ignores an unknown head parameter unless Prefer: handling=strict', async () => {
    const { scope, ids } = await world()
    const page = await search(f.repo, scope, 'Observation', 'nope.name=x&_count=100')
    expect(page.entries.map((e) => e.id).sort()).toEqual([...ids].sort())
    expect(page.request.ignored).toEqual(['nope.name'])
    await expect(search(f.repo, scope, 'Observation', 'nope.name=x', { strict: true })).rejects.toMatchObject({ kind: 'invalid' })
  })
})

describe.skipIf(inject('isEmbeddedDatabase'))('search: chain, _has, _text and _list query plans on PostgreSQL', () => {
  let f: SearchFixture
  let tenantId: string
  // Enough rows (as in sql.int.test.ts) that the planner's choices are those of a real database.
  beforeAll(async () => {
    f = await openSearchFixture()
    tenantId = (await f.newTenant()).tenantId
    const db = f.db.db
    await sql`INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content)
      SELECT ${tenantId}, t, t || g, 1, now(), repeat('x', 1500) FROM generate_series(1, 4000) g, unnest(ARRAY['Patient', 'Organization', 'Provenance']) t`.execute(db)
    await sql`INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content)
      SELECT ${tenantId}, 'Observation', 'o' || g, 1, now(), repeat('x', 1500) FROM generate_series(1, 40000) g`.execute(db)
    await sql`INSERT INTO search_string (tenant_id, resource_type, id, param, value, exact, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, t, t || g, 'name', 'name' || g, 'Name' || g FROM generate_series(1, 4000) g, unnest(ARRAY['Patient', 'Organization']) t) q(tenant_id, resource_type, id, param, value, exact)`.execute(db)
    await sql`INSERT INTO search_reference (tenant_id, resource_type, id, param, ref_type, ref_id, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Observation', 'o' || g, p, 'Patient', 'Patient' || (g % 4000) FROM generate_series(1, 40000) g, unnest(ARRAY['subject', 'patient']) p) q(tenant_id, resource_type, id, param, ref_type, ref_id)`.execute(db)
    await sql`INSERT INTO search_reference (tenant_id, resource_type, id, param, ref_type, ref_id, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Patient', 'Patient' || g, 'organization', 'Organization', 'Organization' || (g % 40) FROM generate_series(1, 4000) g) q(tenant_id, resource_type, id, param, ref_type, ref_id)`.execute(db)
    await sql`INSERT INTO search_reference (tenant_id, resource_type, id, param, ref_type, ref_id, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Provenance', 'Provenance' || g, p, CASE p WHEN 'target' THEN 'Observation' ELSE 'Practitioner' END, CASE p WHEN 'target' THEN 'o' || g ELSE 'pr' || (g % 10) END
      FROM generate_series(1, 4000) g, unnest(ARRAY['target', 'agent']) p) q(tenant_id, resource_type, id, param, ref_type, ref_id)`.execute(db)
    await sql`INSERT INTO search_token (tenant_id, resource_type, id, param, system, code, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Observation', 'o' || g, 'code', 'http://loinc.org', 'c' || (g % 200) FROM generate_series(1, 40000) g) q(tenant_id, resource_type, id, param, system, code)`.execute(db)
    for (const table of ['resource', 'search_string', 'search_reference', 'search_token']) await sql`ANALYZE ${sql.table(table)}`.execute(db)
  }, 120_000)
  afterAll(() => f.close())

  const explain = async (tenantId: string, type: string, query: string) => {
    const request = parseSearchRequest(r4SearchParamRegistry().forType(type), [...new URLSearchParams(query)], { now: new Date() })
    const page = compilePageQuery(planSearch(tenantId, request), { phase: 0, direction: 'after', limit: 21 }).compile(f.db.db)
    const { rows } = await f.db.db.executeQuery<{ 'QUERY PLAN': string }>({ ...page, sql: `EXPLAIN ${page.sql}` })
    return rows.map((r) => r['QUERY PLAN']).join('\n')
  }

  it.each([
    ['Observation', 'subject:Patient.name=name12'],
    ['Observation', 'subject.name=name12'],
    ['Observation', 'subject:Patient.organization.name=name7'],
    ['Patient', '_has:Observation:patient:code=c12'],
    ['Patient', '_has:Observation:patient:_has:Provenance:target:agent=Practitioner/pr1'],
    ['Patient', '_content=name12'],
    ['Patient', '_text=name12 name13'],
    ['Patient', '_list=l1'],
  ])('plans %s?%s on indexes, with no sequential scan', async (type, query) => {
    const text = await explain(tenantId, type, query)
    expect(text).toMatch(/Index/)
    expect(text).not.toMatch(/Seq Scan/)
  })
})
