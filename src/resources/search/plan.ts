import type { SearchFilter, SearchRequest, SortSpec } from './types.js'

/** A sort key resolved to where its values live. */
export type PlannedSort =
  | { readonly source: 'resource'; readonly column: 'id' | 'last_updated'; readonly descending: boolean }
  | { readonly source: 'sort-table'; readonly param: string; readonly descending: boolean }

/**
 * What compile.ts turns into SQL: the filters, and the sort keys with how a sorted walk is split.
 * When the first sort key comes from search_sort, the walk has two phases: phase 0 joins the sort
 * rows (an index-ordered scan of search_sort), phase 1 lists the resources without that key, so no
 * LEFT JOIN ever stands between ORDER BY ... LIMIT and the index.
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
    phases: sort[0]?.source === 'sort-table' ? 2 : 1,
    count: request.count,
  }
}

function planSort(spec: SortSpec): PlannedSort {
  if (spec.def.column === 'id') return { source: 'resource', column: 'id', descending: spec.descending }
  if (spec.def.column === 'lastUpdated') return { source: 'resource', column: 'last_updated', descending: spec.descending }
  return { source: 'sort-table', param: spec.name, descending: spec.descending }
}

/** Clauses on the resource row itself first: cheapest, and they narrow what EXISTS probes see. */
function ordered(filters: readonly SearchFilter[]): SearchFilter[] {
  return [...filters].sort((a, b) => rank(a) - rank(b))
}

const rank = (filter: SearchFilter) => (filter.kind === 'param' && filter.def.column ? 0 : 1)
