import type { FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import { invalid, isFhirError } from '../../errors.js'
import { DEFAULT_PAGE_SIZE, isResourceType, R4_RESOURCE_TYPES, type Repository } from '../../resources/index.js'
import { searchBundle, type BundleLink } from '../bundle.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { isStrictHandling } from '../headers.js'
import { parseCount, toPairs } from './search.js'

/** What `[base]/{Compartment}/{id}/*` understands: the compartment over several types has only the common result parameters. */
const KNOWN = new Set(['_type', '_count', '_cursor', '_format', '_pretty'])

/**
 * `GET [base]/Patient/{id}/*` (and Encounter) — https://hl7.org/fhir/R4/search.html#searchcontexts:
 * every resource in the compartment, of the types `_type` names (or all), a keyset page at a time,
 * through the same one-statement-per-page compartment walk as `$everything` (without its
 * supporting resources). Other parameters are ignored, or a 400 under `Prefer: handling=strict`.
 */
export async function searchCompartmentAll(
  repo: Repository,
  request: FastifyRequest,
  reply: FastifyReply,
  compartment: { resourceType: string; id: string },
  query: Record<string, unknown>,
) {
  if (compartment.resourceType !== 'Patient' && compartment.resourceType !== 'Encounter') {
    throw invalid(`[base]/${compartment.resourceType}/{id}/* is not supported; search one type ([base]/${compartment.resourceType}/{id}/Observation) instead`)
  }
  const unknown = toPairs(query).filter(([name]) => !KNOWN.has(name))
  if (unknown.length && isStrictHandling(request)) {
    throw invalid(`Unknown or unsupported parameter '${unknown[0]![0]}' for a search of all types in a compartment (only _type and _count)`, {
      expression: [unknown[0]![0]],
      messageId: 'MSG_PARAM_UNKNOWN',
    })
  }
  const auth = authOf(request)
  const mayRead = (type: string) => {
    try {
      assertAllowed(auth, type, 'search')
      return true
    } catch (e) {
      if (isFhirError(e)) return false
      throw e
    }
  }
  const named = typeof query._type === 'string' || Array.isArray(query._type) ? [query._type].flat().flatMap((v) => String(v).split(',')).map((t) => t.trim()).filter(Boolean) : undefined
  for (const type of named ?? []) if (!isResourceType(type)) throw invalid(`_type: '${type.slice(0, 64)}' is not a FHIR R4 resource type`, { expression: ['_type'] })
  const types = (named ?? R4_RESOURCE_TYPES).filter(mayRead)
  const count = parseCount(query._count) || DEFAULT_PAGE_SIZE
  const cursor = typeof query._cursor === 'string' ? query._cursor : undefined
  const { scope, baseUrl } = fhirContext(request)
  // The compartment's own resource must be readable (a 404 as for a read otherwise): paging links
  // over another patient's compartment would tell how much it holds even with every entry hidden.
  if (scope.access) await repo.read(scope, compartment.resourceType, compartment.id)
  const page = await repo.everything(scope, {
    compartment: compartment.resourceType,
    ids: [compartment.id],
    types,
    count,
    cursor,
    supporting: false,
  })
  const path = `${baseUrl}/${compartment.resourceType}/${compartment.id}/*`
  const url = (c?: string) => {
    const q = new URLSearchParams([...(named ? [['_type', named.join(',')]] : []), ['_count', String(count)]])
    if (c) q.append('_cursor', c)
    return `${path}?${q.toString()}`
  }
  const links: BundleLink[] = [
    { relation: 'self', url: url(cursor) },
    { relation: 'first', url: url() },
  ]
  if (page.next) links.push({ relation: 'next', url: url(page.next) })
  return sendJson(request, reply, searchBundle(baseUrl, page.entries, undefined, links))
}
