import type { SearchParamDef } from '../indexing/registry.js'
import { isSingleValuedDate } from '../indexing/single-valued-date.js'
import type { ContainedSearch, SearchClause, SearchFilter, SearchRequest, SortSpec } from './types.js'

/**
 * A sort key resolved to where its values live. A date parameter with at most one row per resource
 * (`date-row`, indexing/single-valued-date.ts) sorts on that search_date row: (high, low, id) descending walks
 * search_date_high, (low, high, id) ascending walks search_date_lookup, and a date window on the
 * same parameter narrows that same walk. Other date, string and uri keys are precomputed in
 * search_sort (index-ordered walks); token, reference, number and quantity keys are computed per
 * row from their own index rows (`index-rows`, unions included): nobody sorts by them often enough
 * to pay a search_sort row (and its three indexes) on every write.
 */
export type PlannedSort =
  | { readonly source: 'resource'; readonly column: 'id' | 'last_updated'; readonly descending: boolean }
  | { readonly source: 'sort-table'; readonly param: string; readonly descending: boolean }
  | { readonly source: 'sort-union'; readonly param: string; readonly def: SearchParamDef; readonly descending: boolean }
  | { readonly source: 'date-row'; readonly param: string; readonly descending: boolean }
  | { readonly source: 'index-rows'; readonly type: IndexRowSortType; readonly param: string; readonly def: SearchParamDef; readonly descending: boolean }

/** Parameter types whose `_sort` key is read from their own index rows (compile.ts `indexRowKey`), and those rows' table. */
export const INDEX_ROW_SORT_TABLES = {
  token: 'search_token',
  reference: 'search_reference',
  number: 'search_number',
  quantity: 'search_quantity',
} as const
export type IndexRowSortType = keyof typeof INDEX_ROW_SORT_TABLES

/**
 * What compile.ts turns into SQL: the filters, and the sort keys with how a sorted walk is split.
 * When the first sort key is a parameter (search_sort or index rows), the walk has two phases:
 * phase 0 lists the resources with a value (for search_sort, an index-ordered scan of its rows),
 * phase 1 those without, so no LEFT JOIN ever stands between ORDER BY ... LIMIT and the index.
 */
export interface SearchPlan {
  readonly tenantId: string
  /** '' for a system-level search. */
  readonly resourceType: string
  readonly filters: readonly SearchFilter[]
  /**
   * A system-level search: with `_type`, one branch per type (each with the filters parsed for that
   * type, compiled with the type as a constant, merged by a UNION ALL); without, `filters` applied
   * to every type in one query.
   */
  readonly system?: { readonly branches?: readonly SearchBranch[] }
  readonly sort: readonly PlannedSort[]
  /**
   * The plain clauses (no modifier) of `filters` on the first sort key's parameter when that key
   * is a `date-row`: in phase 0 they are tested on the joined row s0 (the resource's only row of
   * that parameter) instead of by an EXISTS of their own, so the window bounds the index walk that
   * gives the order. Each needs a row, so the walk then has no phase 1.
   */
  readonly sortWindow: readonly SearchClause[]
  readonly phases: 1 | 2
  readonly count: number
  /** `_contained=true|both` (contained-compile.ts): the filters select contained resources of `resourceType` too. */
  readonly contained?: ContainedSearch
}

export interface SearchBranch {
  readonly resourceType: string
  readonly filters: readonly SearchFilter[]
}

export function planSearch(tenantId: string, request: SearchRequest, branches?: readonly SearchRequest[]): SearchPlan {
  const sort = request.sort.map((s) => planSort(request.resourceType, s))
  const first = sort[0]
  const sortWindow = first?.source === 'date-row' ? request.clauses.filter((f) => isWindowClause(f, first.param)) : []
  return {
    tenantId,
    resourceType: request.resourceType,
    filters: ordered(request.clauses),
    system: request.system ? { branches: branches?.map((b) => ({ resourceType: b.resourceType, filters: ordered(b.clauses) })) } : undefined,
    sort,
    sortWindow,
    phases: first && isParamSort(first) && !sortWindow.length ? 2 : 1,
    count: request.count,
    ...(request.contained ? { contained: request.contained } : {}),
  }
}

function planSort(resourceType: string, spec: SortSpec): PlannedSort {
  if (spec.def.column === 'id') return { source: 'resource', column: 'id', descending: spec.descending }
  if (spec.def.column === 'lastUpdated') return { source: 'resource', column: 'last_updated', descending: spec.descending }
  const type = spec.def.type
  // A union of such parameters (combo-value-quantity, patient) reads its members' rows the same way.
  if (isIndexRowSortType(type)) return { source: 'index-rows', type, param: spec.name, def: spec.def, descending: spec.descending }
  // The indexer writes no search_sort row for such a parameter (indexing/extract.ts asks the same question).
  if (resourceType && isSingleValuedDate(resourceType, spec.def)) return { source: 'date-row', param: spec.name, descending: spec.descending }
  // A string or uri union has no search_sort row of its own: its key spans its members' rows.
  if (spec.def.union) return { source: 'sort-union', param: spec.name, def: spec.def, descending: spec.descending }
  return { source: 'sort-table', param: spec.name, descending: spec.descending }
}

const isIndexRowSortType = (type: string): type is IndexRowSortType => Object.hasOwn(INDEX_ROW_SORT_TABLES, type)

/** A clause that holds only on a row of `param` whose range it bounds: `date=ge2012&date=lt2013`. */
function isWindowClause(f: SearchFilter, param: string): f is SearchClause {
  return f.kind === 'param' && f.def.code === param && !f.modifier && f.missing === undefined
}

/** A sort by a search parameter's values, which some resources lack (the two-phase walk). */
export function isParamSort(s: PlannedSort): s is Exclude<PlannedSort, { source: 'resource' }> {
  return s.source !== 'resource'
}

/** Clauses on the resource row itself first: cheapest, and they narrow what EXISTS probes see. */
function ordered(filters: readonly SearchFilter[]): SearchFilter[] {
  return [...filters].sort((a, b) => rank(a) - rank(b))
}

const rank = (filter: SearchFilter) => (filter.kind === 'param' && filter.def.column ? 0 : 1)
