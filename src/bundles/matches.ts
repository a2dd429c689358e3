import { invalid } from '../errors.js'
import { parseCriteria, type Repository, type RequestScope, type SearchQuery, type StoredResource } from '../resources/index.js'

/**
 * Where Bundle processing meets plain search: conditional references (http.html#trules) ask
 * "which resources match `Type?query`?", and GET entries run a search (`Repository.search`).
 * Conditional writes search through the repository's locked `matchConditional` instead (targets.ts).
 */
export const DEFAULT_ENTRY_PAGE_SIZE = 20
const MAX_ENTRY_PAGE_SIZE = 1000

/**
 * Up to two matches of a conditional reference (enough to tell none, one and several apart),
 * with the criteria rules of conditional writes (`parseCriteria`, strict search): a parameter
 * this server cannot evaluate is an `invalid` error, never ignored. No lock: a reference only reads.
 */
export async function findMatches(repo: Repository, scope: RequestScope, resourceType: string, query: string): Promise<readonly StoredResource[]> {
  const criteria = parseCriteria(resourceType, query)
  // No total: two rows tell none, one and several apart without counting every match.
  const page = await repo.search(scope, { resourceType, params: [...criteria, ['_count', '2'], ['_total', 'none']], strict: true })
  return page.entries
}

/**
 * The repository's query for these parameters (`_offset` is dropped: search pages by `_cursor`).
 * With `strict`, a parameter the search engine does not understand is `invalid`, never ignored.
 */
export function toSearchQuery(
  resourceType: string,
  params: URLSearchParams,
  options: { strict: boolean; count: number; offset: number },
): SearchQuery {
  const pairs: [string, string][] = [...params].filter(([name]) => name !== '_count' && name !== '_offset')
  pairs.push(['_count', String(options.count)])
  return { resourceType, params: pairs, strict: options.strict }
}

/** `_count` and `_offset` of a GET entry's search. */
export function pageOf(params: URLSearchParams): { count: number; offset: number } {
  const count = params.get('_count')
  const offset = params.get('_offset')
  if (count !== null && !/^\d{1,9}$/.test(count)) throw invalid(`_count must be a non-negative whole number (got '${count}')`, { expression: ['_count'] })
  if (offset !== null && !/^\d{1,9}$/.test(offset)) throw invalid(`_offset must be a non-negative whole number (got '${offset}')`, { expression: ['_offset'] })
  return {
    count: count === null ? DEFAULT_ENTRY_PAGE_SIZE : Math.min(Number(count), MAX_ENTRY_PAGE_SIZE),
    offset: offset === null ? 0 : Number(offset),
  }
}
