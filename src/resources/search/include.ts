import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database } from '../../db/database.js'
import type { FhirIssue } from '../../errors.js'
import type { SearchParamRegistry } from '../indexing/registry.js'
import { toStored } from '../resource-store.js'
import type { StoredResource } from '../types.js'
import { parseIncludes, type IncludeSpec } from './include-parse.js'
import { andKey } from './lookup-key.js'
import { linkParamCodes, linkParamsCondition } from './param-rows.js'
import type { SearchRequest } from './types.js'

/** Most resources `_include`/`_revinclude` add to one page; past it the Bundle says so in an OperationOutcome entry. */
export const MAX_INCLUDED_PER_PAGE = 1000
/** Rounds of `:iterate` after the first; a longer chain stops there (and says so). */
export const MAX_ITERATE_ROUNDS = 4

export interface IncludeOutcome {
  readonly included?: readonly StoredResource[]
  /** Warnings for the Bundle (bound reached, iteration cut short). */
  readonly issues?: readonly FhirIssue[]
}

export interface PreparedIncludes {
  /** The request with ignored include directives dropped from `used` (the self link) and named in `ignored`. */
  readonly request: SearchRequest
  /** Reads what the directives add to a page of matches. */
  resolve(db: Kysely<Database>, tenantId: string, matches: readonly StoredResource[]): Promise<IncludeOutcome>
}

/**
 * `_include` / `_revinclude` (https://hl7.org/fhir/R4/search.html#include), applied to the page's
 * matches only: each round is ONE statement over search_reference (the per-resource index for
 * `_include`, the lookup index for `_revinclude`) joined to the current, non-deleted resource rows.
 * Directives with `:iterate` run again on what the previous round added. Parsed before the search
 * runs, so `Prefer: handling=strict` refuses an unknown directive without touching the database.
 */
export function prepareIncludes(registry: SearchParamRegistry, request: SearchRequest, strict: boolean | undefined): PreparedIncludes {
  const { specs, ignored } = parseIncludes(registry, request.includes, strict === true)
  const used = ignored.length ? request.used.filter((pair) => !ignored.some(([n, v]) => pair[0] === n && pair[1] === v)) : request.used
  const prepared: SearchRequest = ignored.length ? { ...request, used, ignored: [...request.ignored, ...ignored.map(([n]) => n)] } : request
  return {
    request: prepared,
    resolve: (db, tenantId, matches) => (specs.length && matches.length ? resolveIncludes(db, registry, tenantId, specs, matches) : Promise.resolve({})),
  }
}

async function resolveIncludes(
  db: Kysely<Database>,
  registry: SearchParamRegistry,
  tenantId: string,
  specs: readonly IncludeSpec[],
  matches: readonly StoredResource[],
): Promise<IncludeOutcome> {
  const seen = new Set(matches.map(keyOf))
  const included: StoredResource[] = []
  const issues: FhirIssue[] = []
  let sources: readonly StoredResource[] = matches
  let active = specs
  for (let round = 0; sources.length && active.length; round++) {
    if (round > MAX_ITERATE_ROUNDS) {
      issues.push({ severity: 'information', code: 'informational', diagnostics: `_include:iterate / _revinclude:iterate stopped after ${MAX_ITERATE_ROUNDS} iterations` })
      break
    }
    const remaining = MAX_INCLUDED_PER_PAGE - included.length
    const found = await readRound(db, registry, tenantId, active, sources, seen, remaining + 1)
    const fresh = found.filter((r) => !seen.has(keyOf(r)))
    if (fresh.length > remaining) {
      included.push(...fresh.slice(0, remaining))
      issues.push({
        severity: 'warning',
        code: 'too-costly',
        diagnostics: `Only the first ${MAX_INCLUDED_PER_PAGE} resources added by _include/_revinclude are in this page; ask for a smaller _count or narrower include directives to get them all`,
        expression: ['_include', '_revinclude'],
      })
      break
    }
    for (const r of fresh) seen.add(keyOf(r))
    included.push(...fresh)
    sources = fresh
    active = active.filter((s) => s.iterate)
  }
  return { included, ...(issues.length ? { issues } : {}) }
}

const keyOf = (r: { resourceType: string; id: string }) => `${r.resourceType}/${r.id}`

interface IncludedRow {
  resource_type: string
  id: string
  version_id: number
  last_updated: Date
  content: string
}

/** One round: the union of every directive's (type, id) keys, joined once to the resource table. */
async function readRound(
  db: Kysely<Database>,
  registry: SearchParamRegistry,
  tenantId: string,
  specs: readonly IncludeSpec[],
  sources: readonly StoredResource[],
  seen: ReadonlySet<string>,
  limit: number,
): Promise<StoredResource[]> {
  const idsByType = new Map<string, string[]>()
  for (const s of sources) idsByType.set(s.resourceType, [...(idsByType.get(s.resourceType) ?? []), s.id])
  const keys = specs.flatMap((spec) => (spec.reverse ? reverseKeys(registry, tenantId, spec, idsByType) : forwardKeys(registry, tenantId, spec, idsByType)))
  if (!keys.length) return []
  const { rows } = await sql<IncludedRow>`
    SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.content
    FROM resource r
    WHERE r.tenant_id = ${tenantId} AND r.deleted = false
      AND (r.resource_type, r.id) IN (${sql.join(keys, sql` UNION `)})
      AND (r.resource_type || '/' || r.id) <> ALL(${[...seen]}::text[])
    LIMIT ${limit}`.execute(db)
  return rows.map((row) => toStored(row.resource_type, row.id, { ...row, deleted: false }))
}

/** `_include`: the local references (ref_type set) the sources hold in the directive's parameters. */
function forwardKeys(registry: SearchParamRegistry, tenantId: string, spec: IncludeSpec, idsByType: ReadonlyMap<string, string[]>): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = []
  for (const [type, ids] of idsByType) {
    if (spec.sourceType !== undefined && spec.sourceType !== type) continue
    const params = spec.params ?? referenceParams(registry, type)
    if (!params.length) continue
    out.push(sql`SELECT sr.ref_type, sr.ref_id FROM search_reference sr
      WHERE sr.tenant_id = ${tenantId} AND sr.resource_type = ${type} AND sr.id = ANY(${ids}::text[]) AND ${linkParams(registry, tenantId, type, params)}
        AND ${spec.targetType ? sql`sr.ref_type = ${spec.targetType}` : sql`sr.ref_type IS NOT NULL`}`)
  }
  return out
}

/** `_revinclude`: resources of the directive's type whose parameters refer to a source. */
function reverseKeys(registry: SearchParamRegistry, tenantId: string, spec: IncludeSpec, idsByType: ReadonlyMap<string, string[]>): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = []
  if (!spec.sourceType || !spec.params?.length) return out
  for (const [type, ids] of idsByType) {
    if (spec.targetType !== undefined && spec.targetType !== type) continue
    out.push(sql`SELECT ${spec.sourceType}::text, sr.id FROM search_reference sr
      WHERE sr.tenant_id = ${tenantId} AND sr.resource_type = ${spec.sourceType} AND ${linkParams(registry, tenantId, spec.sourceType, spec.params)}
        AND sr.ref_id = ANY(${ids}::text[]) AND sr.ref_type = ${type}`)
  }
  return out
}

/**
 * `sr.param` of the parameters' reference rows: a union alias (`patient` = the `subject` rows that
 * refer to a Patient, indexing/union-alias.ts) writes no rows of its own, its members hold them.
 */
function linkParams(registry: SearchParamRegistry, tenantId: string, type: string, codes: readonly string[]): RawBuilder<unknown> {
  const byCode = registry.forType(type).byCode
  const defs = codes.flatMap((code) => byCode.get(code) ?? [])
  return sql`${linkParamsCondition('sr', defs)}${andKey('search_reference', 'sr', tenantId, type, linkParamCodes(defs))}`
}

const referenceParamCache = new WeakMap<SearchParamRegistry, Map<string, string[]>>()

/** Every reference parameter of a type (bare `_include=*`). */
function referenceParams(registry: SearchParamRegistry, type: string): string[] {
  let byType = referenceParamCache.get(registry)
  if (!byType) referenceParamCache.set(registry, (byType = new Map()))
  let params = byType.get(type)
  if (!params) {
    params = [...registry.forType(type).byCode.values()].filter((d) => d.type === 'reference' && d.evaluate).map((d) => d.code)
    byType.set(type, params)
  }
  return params
}
