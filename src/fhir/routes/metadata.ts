import type { FastifyInstance } from 'fastify'
import type { SearchParamRegistry } from '../../resources/index.js'
import { buildCapabilityStatement } from '../capability.js'
import { sendJson } from '../content-type.js'
import { fhirContext } from '../context.js'
import { rejectOtherMethods } from './method-not-allowed.js'
import type { FhirPluginOptions } from '../options.js'

/** capabilities (https://hl7.org/fhir/R4/http.html#capabilities) and SMART discovery; no token needed. */
export function registerMetadataRoutes(app: FastifyInstance, options: FhirPluginOptions) {
  // Per tenant base, rebuilt when the tenant's search parameters change (its own SearchParameters).
  const cache = new Map<string, { searchParams: SearchParamRegistry; json: string }>()
  app.get('/metadata', async (request, reply) => {
    const { baseUrl, scope } = fhirContext(request)
    const searchParams = await options.repo.searchParams(scope)
    let json = cache.get(baseUrl)?.searchParams === searchParams ? cache.get(baseUrl)?.json : undefined
    if (!json) {
      json = JSON.stringify(
        buildCapabilityStatement({
          baseUrl,
          tokenUrl: `${options.serverUrl}/oauth2/token`,
          software: { name: 'Segimed FHIR', version: '0.1.0' },
          oauthUris: oauthUris(options, baseUrl),
          searchParams,
        }),
      )
      cache.set(baseUrl, { searchParams, json })
    }
    return sendJson(request, reply, json)
  })

  rejectOtherMethods(app, '/metadata', ['GET'])

  // SMART App Launch discovery (https://hl7.org/fhir/smart-app-launch/STU2/conformance.html) and
  // OpenID Connect discovery: the documents come from the authorization server.
  app.get('/.well-known/smart-configuration', async (request, reply) => {
    return reply.type('application/json').header('cache-control', 'public, max-age=300').send(options.auth.smartConfiguration(fhirContext(request).baseUrl))
  })
  rejectOtherMethods(app, '/.well-known/smart-configuration', ['GET'])
  app.get('/.well-known/openid-configuration', async (request, reply) => {
    return reply.type('application/json').header('cache-control', 'public, max-age=300').send(options.auth.openidConfiguration(fhirContext(request).baseUrl))
  })
  rejectOtherMethods(app, '/.well-known/openid-configuration', ['GET'])
}

function oauthUris(options: FhirPluginOptions, baseUrl: string): Record<string, string> {
  const e = options.auth.endpoints(baseUrl)
  return { authorize: e.authorize, token: e.token, introspect: e.introspect, revoke: e.revoke, manage: e.management, register: `${e.management}/clients` }
}
