import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation } from '@medplum/fhirtypes'
import { createPgRepository } from '../../../src/resources/index.js'
import { makeObservation } from '../../fixtures/builders.js'
import { matchIds, openSearchFixture, seed, type SearchFixture } from './search-fixture.js'

const UCUM = 'http://unitsofmeasure.org'
const CANONICAL = 'urn:segimed:ucum-canonical'
const TABLES = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri'] as const

/** The Observation the create benchmark writes. */
const benchObservation = () => JSON.parse(readFileSync(new URL('../../../bench/observation.json', import.meta.url), 'utf8')) as Observation

/**
 * The index rows one write costs: root composites reuse their plain parameters' rows, a UCUM
 * quantity already in its canonical unit gets no canonical twin, and parameters that sort on their
 * own rows write no search_sort row (the create benchmark is bound by these rows, each a heap tuple
 * and two btree entries).
 */
describe('index rows written per resource', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const rowsOf = async (tenantId: string, id: string) => {
    const out: { table: string; param: string; system?: string | null; code?: string | null; low?: string }[] = []
    for (const table of TABLES) {
      const rows = await f.db.db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).execute()
      for (const row of rows as { param: string; system?: string | null; code?: string | null; low?: unknown }[]) {
        out.push({ table, param: row.param, system: row.system, code: row.code, low: row.low === undefined ? undefined : String(row.low) })
      }
    }
    return out
  }

  it('writes no code-value-quantity rows for bench/observation.json, and code-value-quantity still finds it', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [benchObservation()])
    const rows = await rowsOf(scope.tenantId, id!)
    expect(rows.filter((r) => r.param.startsWith('code-value-'))).toEqual([])
    expect(rows.filter((r) => r.param === 'code').map((r) => r.code).sort()).toEqual(['27113001', '29463-7', '3141-9', 'body-weight'])
    // [lb_av] is not canonical: its value in grams is a row of its own.
    expect(rows.filter((r) => r.param === 'value-quantity').map((r) => [r.system, r.code]).sort()).toEqual([
      [UCUM, '[lb_av]'],
      [CANONICAL, 'g'],
    ])
    // combo-code-value-quantity is the union of code-value-quantity and component-code-value-quantity (union-alias.ts): no rows of its own.
    expect(rows.some((r) => r.param === 'combo-code-value-quantity#0')).toBe(false)
    const found = (query: string) => matchIds(f.repo, scope, 'Observation', query)
    expect(await found(`code-value-quantity=http://loinc.org|29463-7$185|${UCUM}|[lb_av]`)).toEqual([id])
    expect(await found(`code-value-quantity=27113001$83.9|${UCUM}|kg`)).toEqual([id])
    expect(await found('code-value-quantity=body-weight$gt180')).toEqual([id])
    expect(await found('code-value-quantity=29463-7$lt180')).toEqual([])
  })

  it('writes no canonical twin for a quantity in its canonical unit, and keeps one for another unit', async () => {
    const scope = await f.newTenant()
    const inUnit = (value: number, code: string): Observation => ({ ...benchObservation(), valueQuantity: { value, unit: code, system: UCUM, code } })
    const [grams, kilos] = await seed(f.repo, scope, [inUnit(83914.58845, 'g'), inUnit(83.91458845, 'kg')])
    const quantities = async (id: string) => (await rowsOf(scope.tenantId, id)).filter((r) => r.table === 'search_quantity' && !r.param.includes('#'))
    expect((await quantities(grams!)).map((r) => [r.param, r.system, r.code]).sort()).toEqual([
      ['value-quantity', UCUM, 'g'],
    ])
    expect((await quantities(kilos!)).filter((r) => r.system === CANONICAL).map((r) => [r.param, r.code, r.low]).sort()).toEqual([
      ['value-quantity', 'g', '83914.58845'],
    ])
    expect(await matchIds(f.repo, scope, 'Observation', `code-value-quantity=29463-7$83914.58845|${UCUM}|g`)).toEqual([grams!, kilos!].sort())
    expect(await matchIds(f.repo, scope, 'Observation', `combo-code-value-quantity=29463-7$83.91458845|${UCUM}|kg`)).toEqual([grams!, kilos!].sort())
  })

  it('writes no search_sort row for bench/observation.json or a builder Observation (quantity, token, reference and one-row date keys come from their own rows)', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [benchObservation(), makeObservation()])
    for (const id of ids) {
      const sorts = await f.db.db.selectFrom('search_sort').select('param').where('tenant_id', '=', scope.tenantId).where('id', '=', id).execute()
      expect(sorts.map((r) => r.param)).toEqual([])
      const quantities = (await rowsOf(scope.tenantId, id)).filter((r) => r.table === 'search_quantity' && r.param === 'value-quantity')
      expect(quantities).toHaveLength(2)
    }
  })

  it('a repository with indexing off (the bench baseline, bench/server-unindexed.ts) writes resource and history but no index row', async () => {
    const scope = await f.newTenant()
    const unindexed = createPgRepository({ db: f.db.db, indexing: false, groupCommit: false })
    const created = await unindexed.create(scope, benchObservation())
    const id = created.stored.id
    expect(JSON.parse((await f.repo.read(scope, 'Observation', id)).json)).toMatchObject({ id, status: 'final' })
    expect(await rowsOf(scope.tenantId, id)).toEqual([])
    expect(await f.db.db.selectFrom('search_text').select('param').where('tenant_id', '=', scope.tenantId).where('id', '=', id).execute()).toEqual([])
    // The same resource written by the server's repository is indexed.
    const [indexed] = await seed(f.repo, scope, [benchObservation()])
    expect((await rowsOf(scope.tenantId, indexed!)).length).toBeGreaterThan(5)
  })
})
