import type { FastifyInstance } from 'fastify'
import { buildCapabilityStatement } from '../capability.js'
import { sendJson } from '../content-type.js'
import { fhirContext } from '../context.js'
import type { FhirPluginOptions } from '../options.js'

/** capabilities (https://hl7.org/fhir/R4/http.html#capabilities) and SMART discovery; no token needed. */
export function registerMetadataRoutes(app: FastifyInstance, options: FhirPluginOptions) {
  const cache = new Map<string, string>()
  app.get('/metadata', async (request, reply) => {
    const { baseUrl } = fhirContext(request)
    let json = cache.get(baseUrl)
    if (!json) {
      json = JSON.stringify(
        buildCapabilityStatement({ baseUrl, tokenUrl: `${options.serverUrl}/oauth2/token`, software: { name: 'Segimed FHIR', version: '0.1.0' } }),
      )
      cache.set(baseUrl, json)
    }
    return sendJson(request, reply, json)
  })

  // SMART App Launch discovery (http://hl7.org/fhir/smart-app-launch/conformance.html). The full
  // authorization server arrives with its own issue; today only backend client_credentials works.
  app.get('/.well-known/smart-configuration', async (_request, reply) => {
    return reply.type('application/json').send({
      token_endpoint: `${options.serverUrl}/oauth2/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['system/*.*', 'system/*.read', 'system/*.write', 'system/*.cruds'],
      capabilities: ['client-confidential-symmetric', 'permission-v1', 'permission-v2'],
    })
  })
}
