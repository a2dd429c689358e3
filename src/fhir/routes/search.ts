import type { FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import { invalid } from '../../errors.js'
import { parseDateRange, type Repository, type SearchQuery } from '../../resources/index.js'
import { searchBundle, type BundleLink } from '../bundle.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { isStrictHandling } from '../headers.js'

export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 1000
/** Result-control parameters this search understands (https://hl7.org/fhir/R4/search.html#return). */
const CONTROL = new Set(['_count', '_offset', '_format', '_pretty', '_summary', '_elements', '_total'])
const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const

/**
 * Type search with `_id` and `_lastUpdated` (https://hl7.org/fhir/R4/search.html); the full
 * search engine replaces the parameter handling in its own issue. Unknown parameters are
 * ignored and left out of the self link, unless `Prefer: handling=strict`.
 */
export async function searchType(repo: Repository, request: FastifyRequest, reply: FastifyReply, type: string, query: Record<string, unknown>) {
  assertAllowed(authOf(request), type, 'search')
  const { scope, baseUrl } = fhirContext(request)
  const strict = isStrictHandling(request)
  const used: Record<string, string[]> = {}
  let ids: string[] | undefined
  const lastUpdated: NonNullable<SearchQuery['lastUpdated']>[number][] = []
  for (const [name, raw] of Object.entries(query)) {
    const values = (Array.isArray(raw) ? raw : [raw]).map(String)
    if (name === '_id') {
      const list = values.flatMap((v) => v.split(','))
      ids = ids ? ids.filter((i) => list.includes(i)) : list
    } else if (name === '_lastUpdated') {
      for (const v of values) {
        const prefix = PREFIXES.find((p) => v.startsWith(p)) ?? 'eq'
        const range = parseDateRange(PREFIXES.some((p) => v.startsWith(p)) ? v.slice(2) : v, '_lastUpdated')
        lastUpdated.push({ op: prefix, ...range })
      }
    } else if (!CONTROL.has(name)) {
      if (strict) throw invalid(`Unknown search parameter '${name}' for ${type}`, { expression: [name], messageId: 'MSG_PARAM_UNKNOWN' })
      continue
    }
    used[name] = values
  }
  const count = parseCount(query._count)
  const offset = parseOffset(query._offset)
  const page = await repo.search(scope, { resourceType: type, ids, lastUpdated, count, offset })
  const params = (extra: Record<string, string>) => {
    const flat: [string, string][] = []
    for (const [k, vs] of Object.entries(used)) if (k !== '_offset' && k !== '_count') for (const v of vs) flat.push([k, v])
    const qs = new URLSearchParams([...flat, ['_count', String(count)], ...Object.entries(extra)])
    return `${baseUrl}/${type}?${qs.toString()}`
  }
  const links: BundleLink[] = [{ relation: 'self', url: params(offset ? { _offset: String(offset) } : {}) }]
  links.push({ relation: 'first', url: params({}) })
  if (offset + count < page.total) links.push({ relation: 'next', url: params({ _offset: String(offset + count) }) })
  if (offset > 0) links.push({ relation: 'previous', url: params(offset - count > 0 ? { _offset: String(offset - count) } : {}) })
  return sendJson(request, reply, searchBundle(baseUrl, page.entries, page.total, links))
}

export function parseCount(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE
  const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw)
  if (!/^\d+$/.test(text)) throw invalid(`_count must be a non-negative whole number (got '${text}')`, { expression: ['_count'] })
  return Math.min(Number(text), MAX_PAGE_SIZE)
}

function parseOffset(raw: unknown): number {
  if (raw === undefined) return 0
  const text = String(raw)
  if (!/^\d{1,9}$/.test(text)) throw invalid(`_offset must be a non-negative whole number (got '${text}')`, { expression: ['_offset'] })
  return Number(text)
}
