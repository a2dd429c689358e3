import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database } from '../../db/database.js'
import { containedMarkerParam } from '../indexing/contained.js'
import { keysOfTypes } from './lookup-key.js'
import { paramKey } from './param-rows.js'
import { CONTAINER_TYPES, containedScope, containedUnsupported } from './contained-scope.js'
import type { FilterCompiler, RowScope } from './scope.js'
import type { ChainFilter, ChainTarget, SearchFilter } from './types.js'

/**
 * Chains into contained resources (https://hl7.org/fhir/R4/search.html#contained: "a chained
 * condition will be evaluated inside contained resources"): `Observation?subject.name=Taylor`
 * matches an Observation whose `subject` is `#p1` and which contains Patient p1 named Taylor.
 * A `#p1` reference is indexed as (Patient, '#p1') on the referring resource's key
 * (indexing/reference.ts), the contained Patient as a marker row plus `Patient#...` rows on that same
 * key (indexing/contained.ts): the chain goes from the reference row to the marker of the same
 * container whose code is the referenced id, and tests the filter on that contained resource.
 */
export function containedChainCondition(scope: RowScope, filter: ChainFilter, x: string, compile: FilterCompiler): RawBuilder<unknown> | undefined {
  const targets = filter.targets.filter((t) => t.contained)
  if (!targets.length) return undefined
  const r = (c: string) => sql.raw(`${x}.${c}`)
  const each = targets.map((t, i) => {
    const m = `${x}m${i}`
    const a = (c: string) => sql.raw(`${m}.${c}`)
    return sql`(${r('ref_type')} = ${t.resourceType} AND EXISTS (SELECT 1 FROM search_token ${sql.raw(m)}
      WHERE ${a('tenant_id')} = ${scope.tenantId} AND ${a('resource_type')} = ${r('resource_type')} AND ${a('id')} = ${r('id')}
        AND ${a('param')} = ${containedMarkerParam(t.resourceType)} AND '#' || ${a('code')} = ${r('ref_id')}
        AND ${compile(containedScope(scope.tenantId, m, t.resourceType), t.filter, `${m}f`)}))`
  })
  return sql`EXISTS (SELECT 1 FROM search_reference ${sql.raw(x)} WHERE ${paramKey(scope, 'search_reference', x, filter.ref, { isLink: true })} AND (${sql.join(each, sql` OR `)}))`
}

/**
 * Marks the chain targets (at any depth) whose type the tenant holds as contained resources, when
 * their filter can be evaluated on one. One probe of the marker index per candidate type; a tenant
 * without contained resources then gets exactly the chain SQL it got before.
 */
export async function markContainedChains(db: Kysely<Database>, tenantId: string, filters: readonly SearchFilter[]): Promise<SearchFilter[]> {
  const candidates = new Set<string>()
  const collect = (f: SearchFilter): void => {
    if (f.kind === 'has') return collect(f.filter)
    if (f.kind !== 'chain') return
    for (const t of f.targets) {
      if (!containedUnsupported(t.filter)) candidates.add(t.resourceType)
      collect(t.filter)
    }
  }
  filters.forEach(collect)
  if (!candidates.size) return [...filters]
  const params = [...candidates].map(containedMarkerParam)
  // One lookup-index probe per (container type, param) pair, by its key, stopping at the first row
  // (LIMIT keeps it a probe: as a semi-join, a small table was hashed whole).
  const probes = params.flatMap((param) => keysOfTypes(tenantId, CONTAINER_TYPES, param).map((key) => [param, key] as const))
  const { rows } = await sql<{ param: string }>`SELECT DISTINCT p.param FROM unnest(${probes.map((p) => p[0])}::text[], ${probes.map((p) => p[1])}::int8[]) AS p(param, key)
    CROSS JOIN LATERAL (SELECT 1 FROM search_token m WHERE m.pkey = p.key AND m.tenant_id = ${tenantId} AND m.param = p.param LIMIT 1) m`.execute(db)
  const held = new Set(rows.map((r) => r.param))
  if (!held.size) return [...filters]
  const mark = (f: SearchFilter): SearchFilter => {
    if (f.kind === 'has') return { ...f, filter: mark(f.filter) }
    if (f.kind !== 'chain') return f
    const targets = f.targets.map((t): ChainTarget => {
      const filter = mark(t.filter)
      const isHeld = held.has(containedMarkerParam(t.resourceType)) && !containedUnsupported(t.filter)
      return isHeld ? { ...t, filter, contained: true } : { ...t, filter }
    })
    return { ...f, targets }
  }
  return filters.map(mark)
}
