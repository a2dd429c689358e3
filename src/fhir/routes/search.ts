import type { FastifyReply, FastifyRequest } from 'fastify'
import type { OperationOutcome, Resource } from '@medplum/fhirtypes'
import { assertAllowed, type AuthContext } from '../../auth/index.js'
import { invalid, isFhirError } from '../../errors.js'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Repository, type SearchPage } from '../../resources/index.js'
import { searchBundle, type BundleLink } from '../bundle.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { isStrictHandling } from '../headers.js'
import { toIssue } from '../outcome.js'
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
  const { scope } = fhirContext(request)
  const page = await repo.search(scope, { resourceType: type, params: toPairs(query), strict: isStrictHandling(request) })
  return sendSearchPage(request, reply, page, type, query)
}

/**
 * The searchset reply of a page. `path` is what the links put after the base, so paging keeps the
 * form the client used: `Patient`, `Patient/1/Observation` (compartment), '' (system level).
 * Included resources of a type the token's scopes do not let it read or search are left out (their
 * content is already held to the token's patient compartment by the guarded repository).
 */
export function sendSearchPage(request: FastifyRequest, reply: FastifyReply, page: SearchPage, path: string, query: Record<string, unknown>) {
  const { baseUrl } = fhirContext(request)
  const auth = authOf(request)
  assertLinkedTypesAllowed(auth, page.request.clauses)
  const filter = parseElementFilter(query)
  const entryJson = filter && filter.summary !== 'count' ? (json: string) => JSON.stringify(applyElementFilter(JSON.parse(json) as Resource, filter)) : undefined
  const included = page.included?.filter((e) => mayReadType(auth, e.resourceType))
  const outcome: OperationOutcome | undefined = page.issues?.length
    ? { resourceType: 'OperationOutcome', issue: page.issues.map((i) => toIssue(i, 'informational')) }
    : undefined
  const links = searchLinks(baseUrl, path, page, query._cursor)
  return sendJson(request, reply, searchBundle(baseUrl, page.entries, page.total, links, { entryJson, included, outcome }))
}

type Filter = SearchPage['request']['clauses'][number]

/**
 * A chain (`subject:Patient.name=x`) or `_has:Observation:...` searches another type: the token
 * needs search scope on every type it passes through, or the matches would tell what it may not
 * read (`Observation?subject:Patient.family=X` by a token without Patient scope). An unqualified
 * chain passes through every target type that has the parameter; qualify it to need fewer.
 */
function assertLinkedTypesAllowed(auth: AuthContext, filters: readonly Filter[]): void {
  for (const filter of filters) {
    if (filter.kind === 'chain') {
      for (const target of filter.targets) {
        assertAllowed(auth, target.resourceType, 'search')
        assertLinkedTypesAllowed(auth, [target.filter])
      }
    } else if (filter.kind === 'has') {
      assertAllowed(auth, filter.resourceType, 'search')
      assertLinkedTypesAllowed(auth, [filter.filter])
    }
  }
}

function mayReadType(auth: AuthContext, type: string): boolean {
  for (const interaction of ['search', 'read'] as const) {
    try {
      assertAllowed(auth, type, interaction)
      return true
    } catch (e) {
      if (!isFhirError(e)) throw e
    }
  }
  return false
}

function searchLinks(baseUrl: string, path: string, page: SearchPage, cursor: unknown): BundleLink[] {
  const url = (extra?: string) => {
    const params = new URLSearchParams(page.request.used.map(([k, v]) => [k, v]))
    if (extra) params.append('_cursor', extra)
    return `${baseUrl}${path ? `/${path}` : ''}?${params.toString()}`
  }
  const links: BundleLink[] = [
    { relation: 'self', url: url(typeof cursor === 'string' ? cursor : undefined) },
    { relation: 'first', url: url() },
  ]
  if (page.next) links.push({ relation: 'next', url: url(page.next) })
  if (page.previous) links.push({ relation: 'previous', url: url(page.previous) })
  return links
}

/** The parameters of `POST …/_search`: the URL's query and the form body together (a repeat is AND). */
export function formQuery(request: FastifyRequest): Record<string, string | string[]> {
  const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
  const query: Record<string, string | string[]> = { ...(request.query as Record<string, string | string[]>) }
  for (const [k, v] of form) {
    const prev = query[k]
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return query
}

/** Fastify's query object (repeats as arrays) → ordered [name, value] pairs. */
export function toPairs(query: Record<string, unknown>): [string, string][] {
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
