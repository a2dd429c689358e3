import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import { invalid, methodNotAllowed } from '../../errors.js'
import { isResourceType } from '../../resources/index.js'
import { authOf, fhirContext } from '../context.js'
import { isStrictHandling } from '../headers.js'
import type { FhirPluginOptions } from '../options.js'
import { formQuery, sendSearchPage, toPairs } from './search.js'

/**
 * search, system level — https://hl7.org/fhir/R4/search.html#searchcontexts (`GET [base]?_type=A,B&params`
 * and `POST [base]/_search`): the common parameters over the types `_type` names, or over every type.
 * Each named type needs a search scope; without `_type` the token needs a `*` grant. Links keep the
 * form `[base]?[params]`. `POST [base]` itself is the batch/transaction route (batch.ts).
 */
export function registerSystemSearchRoutes(app: FastifyInstance, { repo }: FhirPluginOptions) {
  app.get('/', (request, reply) => search(request, reply, request.query as Record<string, unknown>))
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/_search',
    handler: async (request) => {
      throw methodNotAllowed(`${request.method} is not allowed on [base]/_search; use POST [base]/_search or GET [base]?params`, ['POST'])
    },
  })
  app.post('/_search', (request, reply) => search(request, reply, formQuery(request)))

  async function search(request: FastifyRequest, reply: FastifyReply, query: Record<string, unknown>) {
    const auth = authOf(request)
    const types = typesOf(query._type)
    if (types.length) for (const type of types) assertAllowed(auth, type, 'search')
    else assertAllowed(auth, '*', 'search')
    const page = await repo.searchSystem(fhirContext(request).scope, { params: toPairs(query), strict: isStrictHandling(request) })
    return sendSearchPage(request, reply, page, '', query)
  }
}

/** `_type=A,B` (repeats allowed) → the resource types; a name that is not one is a 400 naming `_type`. */
function typesOf(raw: unknown): string[] {
  if (raw === undefined) return []
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean)
  for (const type of values) {
    if (!isResourceType(type)) throw invalid(`_type: '${type.slice(0, 64)}' is not a FHIR R4 resource type`, { expression: ['_type'] })
  }
  return values
}
