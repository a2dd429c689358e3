import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import type { Repository } from '../../resources/index.js'
import { authOf, fhirContext } from '../context.js'
import { isStrictHandling } from '../headers.js'
import type { FhirPluginOptions } from '../options.js'
import { knownType } from '../resource-type.js'
import { searchCompartmentAll } from './compartment-all.js'
import { formQuery, sendSearchPage, toPairs } from './search.js'

/** The compartments of R4 (https://hl7.org/fhir/R4/compartmentdefinition.html) a search can be scoped to. */
export const COMPARTMENT_TYPES = ['Patient', 'Encounter', 'RelatedPerson', 'Practitioner', 'Device'] as const

/**
 * A resource type, or `*`: as a route constraint the router falls back to the `/:type/:id/:op`
 * (operations) and `/:type/:id/_history` routes for anything else, so those keep working.
 */
const TYPE_SEGMENT = ':type(^(?:[A-Z][A-Za-z]+|\\*)$)'

type Params = { id: string; type: string }

/**
 * search, compartment — https://hl7.org/fhir/R4/search.html#searchcontexts:
 * `GET [base]/Patient/{id}/{type}?params` (and `POST …/{type}/_search`) is a type search of the
 * resources in that patient's compartment; `[base]/Patient/{id}/*` lists the compartment over all its
 * types. Paging links keep the form `[base]/Patient/{id}/{type}?[params]`.
 */
export function registerCompartmentSearchRoutes(app: FastifyInstance, { repo }: FhirPluginOptions) {
  for (const compartment of COMPARTMENT_TYPES) {
    app.route<{ Params: Params }>({
      method: ['GET', 'HEAD'],
      url: `/${compartment}/:id/${TYPE_SEGMENT}`,
      handler: (request, reply) => search(repo, request, reply, compartment, request.query as Record<string, unknown>),
    })
    app.post<{ Params: Params }>(`/${compartment}/:id/${TYPE_SEGMENT}/_search`, (request, reply) => search(repo, request, reply, compartment, formQuery(request)))
  }
}

async function search(repo: Repository, request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, compartment: string, query: Record<string, unknown>) {
  const { id, type } = request.params
  if (type === '*') return searchCompartmentAll(repo, request, reply, { resourceType: compartment, id }, query)
  knownType(type)
  assertAllowed(authOf(request), type, 'search')
  const page = await repo.search(fhirContext(request).scope, {
    resourceType: type,
    params: toPairs(query),
    strict: isStrictHandling(request),
    compartment: { resourceType: compartment, id },
  })
  return sendSearchPage(request, reply, page, `${compartment}/${id}/${type}`, query)
}
