import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Resource } from '@medplum/fhirtypes'
import { assertAllowed } from '../../auth/index.js'
import { invalid } from '../../errors.js'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Repository, type SearchPage } from '../../resources/index.js'
import { searchBundle, type BundleLink } from '../bundle.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { isStrictHandling } from '../headers.js'
import { applyElementFilter, parseElementFilter } from '../summary.js'

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE }

/**
 * search, type level — https://hl7.org/fhir/R4/search.html (GET [base]/[type]?params and
 * POST [base]/[type]/_search). The repository parses and runs the search; this builds the searchset
 * Bundle: `self` lists only the parameters used (unknown ones are ignored, or a 400 under
 * `Prefer: handling=strict`), `first`/`next`/`previous` carry a keyset `_cursor`, and
 * `_summary`/`_elements` shape each entry.
 */
export async function searchType(repo: Repository, request: FastifyRequest, reply: FastifyReply, type: string, query: Record<string, unknown>) {
  assertAllowed(authOf(request), type, 'search')
  const { scope, baseUrl } = fhirContext(request)
  const page = await repo.search(scope, { resourceType: type, params: toPairs(query), strict: isStrictHandling(request) })
  const filter = parseElementFilter(query)
  const entryJson = filter && filter.summary !== 'count' ? (json: string) => JSON.stringify(applyElementFilter(JSON.parse(json) as Resource, filter)) : undefined
  return sendJson(request, reply, searchBundle(baseUrl, page.entries, page.total, searchLinks(baseUrl, type, page, query._cursor), { entryJson }))
}

function searchLinks(baseUrl: string, type: string, page: SearchPage, cursor: unknown): BundleLink[] {
  const url = (extra?: string) => {
    const params = new URLSearchParams(page.request.used.map(([k, v]) => [k, v]))
    if (extra) params.append('_cursor', extra)
    return `${baseUrl}/${type}?${params.toString()}`
  }
  const links: BundleLink[] = [
    { relation: 'self', url: url(typeof cursor === 'string' ? cursor : undefined) },
    { relation: 'first', url: url() },
  ]
  if (page.next) links.push({ relation: 'next', url: url(page.next) })
  if (page.previous) links.push({ relation: 'previous', url: url(page.previous) })
  return links
}

/** Fastify's query object (repeats as arrays) → ordered [name, value] pairs. */
function toPairs(query: Record<string, unknown>): [string, string][] {
  const pairs: [string, string][] = []
  for (const [name, raw] of Object.entries(query)) {
    for (const value of Array.isArray(raw) ? raw : [raw]) pairs.push([name, String(value)])
  }
  return pairs
}

/** `_count` of history and other paged interactions: default 20, at most 1000. */
export function parseCount(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE
  const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw)
  if (!/^\d+$/.test(text)) throw invalid(`_count must be a non-negative whole number (got '${text}')`, { expression: ['_count'] })
  return Math.min(Number(text), MAX_PAGE_SIZE)
}
