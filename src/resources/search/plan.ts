import type { SearchFilter, SearchRequest, SortSpec } from './types.js'

/**
 * A sort key resolved to where its values live. Date, string, number, quantity and uri keys are
 * precomputed in search_sort (index-ordered walks); token and reference keys are computed per row
 * from their own index rows (`index-rows`): nobody sorts by them often enough to pay a search_sort
 * row (and its three indexes) on every write.
 */
export type PlannedSort =
  | { readonly source: 'resource'; readonly column: 'id' | 'last_updated'; readonly descending: boolean }
  | { readonly source: 'sort-table'; readonly param: string; readonly descending: boolean }
  | { readonly source: 'index-rows'; readonly type: 'token' | 'reference'; readonly param: string; readonly descending: boolean }

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
  readonly phases: 1 | 2
  readonly count: number
}

export interface SearchBranch {
  readonly resourceType: string
  readonly filters: readonly SearchFilter[]
}

export function planSearch(tenantId: string, request: SearchRequest, branches?: readonly SearchRequest[]): SearchPlan {
  const sort = request.sort.map(planSort)
  return {
    tenantId,
    resourceType: request.resourceType,
    filters: ordered(request.clauses),
    system: request.system ? { branches: branches?.map((b) => ({ resourceType: b.resourceType, filters: ordered(b.clauses) })) } : undefined,
    sort,
    phases: sort[0] && isParamSort(sort[0]) ? 2 : 1,
    count: request.count,
  }
}

function planSort(spec: SortSpec): PlannedSort {
  if (spec.def.column === 'id') return { source: 'resource', column: 'id', descending: spec.descending }
  if (spec.def.column === 'lastUpdated') return { source: 'resource', column: 'last_updated', descending: spec.descending }
  const type = spec.def.type
  if (type === 'token' || type === 'reference') return { source: 'index-rows', type, param: spec.name, descending: spec.descending }
  return { source: 'sort-table', param: spec.name, descending: spec.descending }
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
