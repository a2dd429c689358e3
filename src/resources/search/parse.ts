import { invalid } from '../../errors.js'
import { r4SearchParamRegistry, type SearchParamRegistry, type TypeSearchParams } from '../indexing/registry.js'
import { decodeCursor } from './paging.js'
import { parseFilter } from './parse-links.js'
import type { ContainedSearch, SearchFilter, SearchRequest, SortSpec, TotalMode } from './types.js'

export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 1000

/** Result parameters parsed here (https://hl7.org/fhir/R4/search.html#return). */
const RESULT_PARAMS = new Set(['_sort', '_count', '_total', '_summary', '_elements', '_cursor'])
/** Parameters the HTTP layer handles; never "unknown", never echoed in links by this parser. */
const TRANSPORT_PARAMS = new Set(['_format', '_pretty'])
/** `_include` / `_revinclude` (with `:iterate`): kept as given and resolved after the page is read (include.ts). */
const INCLUDE_PARAMS = new Set(['_include', '_revinclude', '_include:iterate', '_revinclude:iterate', '_include:recurse', '_revinclude:recurse'])
/** `_contained` / `_containedType` (https://hl7.org/fhir/R4/search.html#contained) and their values; the first is the default. */
const CONTAINED_PARAMS: ReadonlyMap<string, readonly string[]> = new Map([['_contained', ['false', 'true', 'both']], ['_containedType', ['container', 'contained']]])
const SUMMARY_MODES = ['true', 'text', 'data', 'count', 'false'] as const
const TOTAL_MODES: readonly TotalMode[] = ['none', 'estimate', 'accurate']

export interface ParseOptions {
  /** `Prefer: handling=strict`: an unknown or unsupported parameter is a 400, not ignored. */
  readonly strict?: boolean
  readonly localBase?: string
  readonly now: Date
  /** The parameters of the other types chains and `_has` reach; the R4 base ones by default. */
  readonly registry?: SearchParamRegistry
}

/** Result, transport and include parameters: not filters (system search checks the others per type). */
export function isControlParam(name: string): boolean {
  return RESULT_PARAMS.has(name) || TRANSPORT_PARAMS.has(name) || INCLUDE_PARAMS.has(name) || CONTAINED_PARAMS.has(name)
}

/**
 * Query parameters → SearchRequest (https://hl7.org/fhir/R4/search.html). `,` separates OR values
 * (`\,` is a literal comma), a repeated parameter is AND. A malformed value is always `invalid`
 * naming the parameter; an unknown parameter is ignored unless `strict`.
 */
export function parseSearchRequest(params: TypeSearchParams, pairs: readonly (readonly [string, string])[], options: ParseOptions): SearchRequest {
  const clauses: SearchFilter[] = []
  const linkOptions = { registry: options.registry ?? r4SearchParamRegistry(), localBase: options.localBase, now: options.now }
  const used: [string, string][] = []
  const ignored: string[] = []
  const includes: [string, string][] = []
  const result = new Map<string, string>()
  for (const [name, raw] of pairs) {
    if (TRANSPORT_PARAMS.has(name)) continue
    // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
    if (name.includes('\u0000') || raw.includes('\u0000')) throw invalid(`Parameter ${name.replace(/\u0000/g, '')}: values must not contain NUL characters`, { expression: [name.replace(/\u0000/g, '')] })
    if (INCLUDE_PARAMS.has(name)) {
      includes.push([name, raw])
      used.push([name, raw])
      continue
    }
    if (RESULT_PARAMS.has(name) || CONTAINED_PARAMS.has(name)) {
      if (result.has(name)) throw invalid(`${name} may be given only once`, { expression: [name] })
      result.set(name, raw)
      continue
    }
    const clause = parseFilter(linkOptions, params, name, raw)
    if (clause === 'unknown') {
      if (options.strict) throw invalid(`Unknown or unsupported search parameter '${name}' for ${params.resourceType}`, { expression: [name], messageId: 'MSG_PARAM_UNKNOWN' })
      ignored.push(name)
      continue
    }
    if (clause === 'empty') continue
    clauses.push(clause)
    used.push([name, raw])
  }
  const count = parseCount(result.get('_count'))
  const total = parseEnum('_total', result.get('_total'), TOTAL_MODES)
  const summary = parseEnum('_summary', result.get('_summary'), SUMMARY_MODES)
  const sort = parseSort(params, result.get('_sort'))
  const elementsText = result.get('_elements')
  const elements = elementsText?.split(',').map((e) => e.trim()).filter(Boolean)
  const cursorText = result.get('_cursor')
  const contained = parseContained(result.get('_contained'), result.get('_containedType'))
  for (const name of ['_sort', '_total', '_summary', '_elements', '_contained', '_containedType'] as const) {
    const v = result.get(name)
    if (v !== undefined) used.push([name, v])
  }
  used.push(['_count', String(count)])
  return {
    resourceType: params.resourceType,
    clauses,
    sort,
    count,
    // Without _total a client still gets Bundle.total, counted exactly (what integrators expect);
    // `_total=none` skips the count, `estimate` reads the planner's estimate.
    total: total ?? 'accurate',
    summary,
    elements,
    cursor: cursorText === undefined ? undefined : decodeCursor(cursorText),
    used,
    includes,
    ignored,
    ...(contained ? { contained } : {}),
  }
}

/** Absent for `_contained=false`; `_containedType` alone changes nothing then (no contained match to return). */
function parseContained(mode: string | undefined, returns: string | undefined): ContainedSearch | undefined {
  const m = parseEnum('_contained', mode, CONTAINED_PARAMS.get('_contained')!)
  const r = parseEnum('_containedType', returns, CONTAINED_PARAMS.get('_containedType')!)
  if (m === undefined || m === 'false') return undefined
  return { mode: m as ContainedSearch['mode'], returns: (r ?? 'container') as ContainedSearch['returns'] }
}

function parseCount(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE
  if (!/^\d{1,9}$/.test(raw)) throw invalid(`_count must be a non-negative whole number (got '${raw.slice(0, 40)}')`, { expression: ['_count'] })
  return Math.min(Number(raw), MAX_PAGE_SIZE)
}

function parseEnum<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined
  if (!allowed.includes(raw as T)) throw invalid(`${name} must be one of ${allowed.join(', ')} (got '${raw.slice(0, 40)}')`, { expression: [name] })
  return raw as T
}

function parseSort(params: TypeSearchParams, raw: string | undefined): SortSpec[] {
  if (raw === undefined) return []
  const seen = new Set<string>()
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((key) => {
      const descending = key.startsWith('-')
      const code = descending ? key.slice(1) : key
      const def = params.byCode.get(code)
      if (!def || def.type === 'composite' || def.type === 'special' || (!def.evaluate && !def.column) || seen.has(code)) {
        throw invalid(`_sort: '${code}' is not a sortable search parameter of ${params.resourceType} (or is repeated)`, { expression: ['_sort'] })
      }
      seen.add(code)
      return { name: code, def, descending }
    })
}
