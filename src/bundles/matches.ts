import { invalid } from '../errors.js'
import { type Repository, type RequestScope, type SearchQuery, type StoredResource } from '../resources/index.js'

/**
 * The one place where Bundle processing meets search: conditional create/update/patch/delete
 * and conditional references (http.html#ccreate, #cond-update, #cdelete, #trules) ask "which
 * resources match `Type?query`?", and GET entries run a search (`Repository.search`).
 */
const CONTROL = new Set(['_count', '_offset', '_format', '_pretty', '_summary', '_elements', '_total'])
export const DEFAULT_ENTRY_PAGE_SIZE = 20
const MAX_ENTRY_PAGE_SIZE = 1000

/**
 * Up to two matches of a conditional URL (enough to tell none, one and several apart).
 * `strict`: a parameter this server cannot evaluate is an `invalid` error, never ignored, since
 * ignoring it would match resources the client did not mean (and a conditional delete would
 * delete them).
 */
export async function findMatches(repo: Repository, scope: RequestScope, resourceType: string, query: string): Promise<readonly StoredResource[]> {
  const params = new URLSearchParams(query)
  if (![...params.keys()].some((k) => !CONTROL.has(k))) {
    throw invalid(`The conditional URL '${resourceType}?${query}' has no search criteria; it would match every ${resourceType}`)
  }
  // No total: two rows tell none, one and several apart without counting every match.
  params.set('_total', 'none')
  const page = await repo.search(scope, toSearchQuery(resourceType, params, { strict: true, count: 2, offset: 0 }))
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
