import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CompiledQuery, sql } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import type { Db } from '../../../src/db/connect.js'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository, type RequestScope } from '../../../src/resources/index.js'
import { generateTenant, LABS, VITALS } from '../../../bench/search/generate.js'
import { freshTenantId, openTestDb } from '../../setup/db.js'

/**
 * Every scenario of the search bench (bench/search, issue 3 item 7) runs on indexes: on a small
 * dataset written through the repository and ANALYZEd, each statement the search sends (page,
 * count, includes, whatever the engine generates) is EXPLAINed, and its plan must use an index and
 * never scan resource or a search_* table sequentially. The statements are captured from Kysely's
 * log hook, so the test follows the engine however it builds its SQL.
 * The test tenant sits among other clinics' rows (written with SQL, about 90% of each table), as
 * every tenant does on a shared server: alone in the tables, a tenant's type would be most of the
 * heap and a sequential scan the right plan for anything.
 * PostgreSQL only: the promise is about PostgreSQL's planner (PGlite's planner sees the same SQL
 * but is not what serves production).
 */
describe.skipIf(inject('isEmbeddedDatabase'))('search bench scenarios: query plans on PostgreSQL', () => {
  const RESOURCES = 3000
  const captured: CompiledQuery[] = []
  let db: Db
  let repo: Repository
  let scope: RequestScope
  let patient: { id: string; family: string }

  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb({ onQuery: (e) => void (e.level === 'query' && captured.push(e.query)) })
    repo = createPgRepository({ db: db.db, serverUrl: 'http://fhir.test' })
    scope = { tenantId: freshTenantId('explain') }
    await createTenantStore(db.db, repo).ensure(scope.tenantId, 'Explain clinic')
    const resources: Resource[] = []
    for (const r of generateTenant(42)) {
      resources.push(r)
      if (resources.length === RESOURCES) break
    }
    const first = resources.find((r) => r.resourceType === 'Patient') as Resource & { name: { family: string }[] }
    patient = { id: first.id!, family: first.name[0]!.family }
    // Client-chosen ids (update as create) keep the generator's references intact.
    let next = 0
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < resources.length) await repo.update(scope, resources[next++]!)
    }))
    await writeOtherClinics(db, (await createTenantStore(db.db, repo).ensure(freshTenantId('other'), 'Other clinics')).tenant.tenantId)
    // Steady-state statistics and visibility map, as autovacuum keeps them on a live server.
    for (const table of ['resource', 'search_string', 'search_token', 'search_reference', 'search_date', 'search_sort', 'search_quantity']) {
      await sql`VACUUM ANALYZE ${sql.table(table)}`.execute(db.db)
    }
  }, 180_000)
  afterAll(() => db?.close())

  /** Runs `Type?query` through the repository; returns the plan of every statement it sent. */
  const plansOf = async (resourceType: string, query: string, options: { cursor?: string; repo?: Repository } = {}) => {
    const params: [string, string][] = [...new URLSearchParams(query)]
    if (options.cursor) params.push(['_cursor', options.cursor])
    captured.length = 0
    const page = await (options.repo ?? repo).search(scope, { resourceType, params, strict: true })
    const statements = captured.splice(0).filter((q) => /^\s*(with|select)\b/i.test(q.sql))
    const plans: string[] = []
    for (const q of statements) {
      const { rows } = await db.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]))
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'))
    }
    captured.length = 0
    return { page, plans }
  }

  const expectIndexedPlans = (plans: readonly string[]) => {
    expect(plans.length).toBeGreaterThan(0)
    for (const plan of plans) {
      expect(plan, plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/)
      expect(plan, plan).not.toMatch(/Seq Scan on (resource|resource_history|search_\w+)\b/)
    }
  }

  const hr = VITALS.heartRate.code
  it.each([
    ['Patient by name', 'Patient', () => `name=${patient.family.slice(0, 4)}&_total=none`],
    ['Observation by subject and code', 'Observation', () => `subject=Patient/${patient.id}&code=${hr}&_total=none`],
    ['Observation by code and date range', 'Observation', () => `code=${hr}&date=ge2016-01-01&date=lt2016-04-01&_total=none`],
    ['the same sorted by -date', 'Observation', () => `code=${hr}&date=ge2016-01-01&date=lt2016-04-01&_sort=-date&_total=none`],
    ['chained subject.name', 'Observation', () => `subject.name=${encodeURIComponent(patient.family)}&_total=none`],
    ['_has', 'Patient', () => `_has:Observation:subject:code=${LABS.cholesterol.code}&_total=none`],
    ['_include', 'Observation', () => `code=${hr}&date=ge2016-01-01&date=lt2016-04-01&_include=Observation:subject&_total=none`],
  ])('%s (%s) plans every statement on an index', async (_title, type, query) => {
    const { page, plans } = await plansOf(type, query())
    expect(page.entries.length).toBeGreaterThan(0)
    expectIndexedPlans(plans)
  })

  it('_total=accurate over every Observation pages on an index and sums resource_live_count, never counting resource rows', async () => {
    const { page, plans } = await plansOf('Observation', '_total=accurate')
    expect(page.entries.length).toBeGreaterThan(0)
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM resource WHERE tenant_id = ${scope.tenantId} AND resource_type = 'Observation' AND NOT deleted`.execute(db.db)
    expect(page.total).toBe(Number(rows[0]!.n))
    const [counts, others] = [plans.filter((p) => /on resource_live_count\b/.test(p)), plans.filter((p) => !/on resource_live_count\b/.test(p))]
    // The sum, and the fold of the 3,000 rows the writes above added (live-count.ts). The table holds
    // a row per tenant and type plus the changes since the last fold: whichever scan the planner
    // prefers for its size, neither statement reads anything else.
    expect(counts.length, plans.join('\n')).toBeGreaterThanOrEqual(1)
    for (const plan of counts) expect(plan, plan).not.toMatch(/\bon (resource|search_\w+)\b/)
    expectIndexedPlans(others)
  })

  it('a _has over common matches, which walks the patients in id order (ids-first.ts, has-walk.ts), plans on indexes', async () => {
    const walker = createPgRepository({ db: db.db, serverUrl: 'http://fhir.test', hasWalkFrom: 0 })
    const { page, plans } = await plansOf('Patient', `_has:Observation:subject:code=${LABS.cholesterol.code}&_total=none`, { repo: walker })
    expect(page.entries.length).toBeGreaterThan(0)
    expect(plans.join('\n')).toMatch(/Index Only Scan using search_reference_lookup on search_reference/)
    expectIndexedPlans(plans)
  })

  it('a page in id order finds its ids without reading resource rows, then reads the page rows alone (compile.ts idOrderPage)', async () => {
    for (const [type, query] of [
      ['Observation', `code=${hr}&date=ge2016-01-01&date=lt2016-04-01&_total=none`],
      ['Observation', `subject=Patient/${patient.id}&code=${hr}&_total=none`],
      ['Patient', `name=${patient.family.slice(0, 4)}&_total=none`],
    ] as const) {
      const { page, plans } = await plansOf(type, query)
      expect(page.entries.length, query).toBeGreaterThan(0)
      const all = plans.join('\n')
      // `r` is the id walk, `p` the probe of each page row.
      expect(all, all).toMatch(/Index Scan using \w+ on resource p\b/)
      expect(all, all).not.toMatch(/(Index Scan|Bitmap Heap Scan)( using \w+)? on resource r\b/)
    }
  })

  it('a deep page (the 6th, following next cursors) of code + _sort=-date plans on an index', async () => {
    const query = `code=${hr}&_sort=-date&_count=10&_total=none`
    let cursor: string | undefined
    const seen = new Set<string>()
    for (let page = 1; page < 6; page++) {
      const { page: p } = await plansOf('Observation', query, { cursor })
      for (const e of p.entries) seen.add(e.id)
      cursor = p.next
      expect(cursor).toBeDefined()
    }
    const { page, plans } = await plansOf('Observation', query, { cursor })
    expect(page.entries).toHaveLength(10)
    expect(page.entries.filter((e) => seen.has(e.id))).toEqual([])
    expectIndexedPlans(plans)
  })

  it('the sorted scenarios order by the search_date row of date (one per Observation), never by search_sort', async () => {
    for (const query of [`code=${hr}&date=ge2016-01-01&date=lt2016-04-01&_sort=-date&_total=none`, `code=${hr}&_sort=-date&_count=10&_total=none`]) {
      const { plans } = await plansOf('Observation', query)
      expect(plans.join('\n'), query).toMatch(/on search_date s0\b/)
      expect(plans.join('\n'), query).not.toMatch(/search_sort/)
    }
  })

  it('reads the targets of given resources (an _include page, a _has over the Observations of a code) from search_reference indexes alone', async () => {
    const visitsHeap = /(Index Scan|Bitmap Heap Scan)( using \w+)? on search_reference\b/
    for (const [type, query] of [
      ['Observation', `code=${hr}&date=ge2016-01-01&date=lt2017-01-01&_include=Observation:subject&_total=none`],
      ['Patient', `_has:Observation:subject:code=${LABS.hba1c.code}&_total=none`],
    ] as const) {
      const { page, plans } = await plansOf(type, query)
      expect(page.entries.length, query).toBeGreaterThan(0)
      const all = plans.join('\n')
      expect(all, query).toMatch(/Index Only Scan using search_reference_\w+ on search_reference\b/)
      expect(all, all).not.toMatch(visitsHeap)
    }
  })

  it('the included entries of an _include page are the subjects of its matches', async () => {
    const { page } = await plansOf('Observation', `code=${hr}&date=ge2016-01-01&date=lt2017-01-01&_include=Observation:subject&_total=none`)
    const subjects = new Set(page.entries.map((e) => (JSON.parse(e.json) as { subject: { reference: string } }).subject.reference))
    expect(new Set((page.included ?? []).map((e) => `${e.resourceType}/${e.id}`))).toEqual(subjects)
  })
})

/** Rows of other clinics, shaped like the bench's (Patients with names, Observations with code, subject, date). */
async function writeOtherClinics(db: Db, tenantId: string): Promise<void> {
  const PATIENTS = 6000
  const OBSERVATIONS = 30000
  const codes = [VITALS.heartRate.code, VITALS.weight.code, VITALS.height.code, VITALS.temperature.code, LABS.cholesterol.code, LABS.glucose.code]
  const run = (query: ReturnType<typeof sql>) => query.execute(db.db)
  await run(sql`INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content)
    SELECT ${tenantId}, 'Patient', 'p' || g, 1, now(), repeat('x', 1200) FROM generate_series(1, ${PATIENTS}) g`)
  await run(sql`INSERT INTO search_string (tenant_id, resource_type, id, param, value, exact, pkey)
    SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Patient', 'p' || g, 'name', v, v FROM generate_series(1, ${PATIENTS}) g, LATERAL (VALUES ('name' || (g % 500)), ('given' || (g % 97))) AS n(v)) q(tenant_id, resource_type, id, param, value, exact)`)
  await run(sql`INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content)
    SELECT ${tenantId}, 'Observation', 'o' || g, 1, now(), repeat('x', 800) FROM generate_series(1, ${OBSERVATIONS}) g`)
  await run(sql`INSERT INTO search_reference (tenant_id, resource_type, id, param, ref_type, ref_id, pkey)
    SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Observation', 'o' || g, p, 'Patient', 'p' || (g % ${PATIENTS}) FROM generate_series(1, ${OBSERVATIONS}) g, unnest(ARRAY['subject', 'patient']) p) q(tenant_id, resource_type, id, param, ref_type, ref_id)`)
  await run(sql`INSERT INTO search_token (tenant_id, resource_type, id, param, system, code, pkey)
    SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Observation', 'o' || g, 'code', 'http://loinc.org', (${codes}::text[])[1 + g % ${codes.length}] FROM generate_series(1, ${OBSERVATIONS}) g) q(tenant_id, resource_type, id, param, system, code)`)
  await run(sql`INSERT INTO search_date (tenant_id, resource_type, id, param, low, high, pkey)
    SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Observation', 'o' || g, 'date', t, t + interval '1 second'
    FROM generate_series(1, ${OBSERVATIONS}) g, LATERAL (SELECT timestamptz '2012-01-01' + g * interval '3 hours' AS t) d) q(tenant_id, resource_type, id, param, low, high)`)
  await run(sql`INSERT INTO search_sort (tenant_id, resource_type, id, param, lo, hi)
    SELECT tenant_id, resource_type, id, 'date', to_char(low AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(high AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    FROM search_date WHERE tenant_id = ${tenantId}`)
}
