import type { FastifyPluginAsync } from 'fastify'
import type { FhirPluginOptions } from './options.js'
import { notFound } from '../errors.js'
import { negotiateResponseType, registerBodyParsers } from './content-type.js'
import { fhirErrorHandler } from './outcome.js'
import { registerBatchRoutes } from './routes/batch.js'
import { registerHistoryRoutes } from './routes/history.js'
import { registerMetadataRoutes } from './routes/metadata.js'
import { registerResourceRoutes } from './routes/resource.js'

export type { FhirPluginOptions } from './options.js'

/** Paths under /fhir/{tenant} that answer without a token (capability discovery). */
const PUBLIC_PATHS = new Set(['metadata', '.well-known/smart-configuration', '.well-known/openid-configuration'])

/**
 * The FHIR RESTful API of one tenant, mounted at `/fhir/:tenant`
 * (https://hl7.org/fhir/R4/http.html). Encapsulated: its parsers and error handler do not leak
 * to the auth or admin routes.
 */
export const fhirPlugin: FastifyPluginAsync<FhirPluginOptions> = async (app, options) => {
  registerBodyParsers(app, { bodyLimit: options.bodyLimit, maxDepth: options.maxJsonDepth })
  app.setErrorHandler(fhirErrorHandler)
  app.setNotFoundHandler((request, reply) =>
    fhirErrorHandler(notFound(`No FHIR interaction at ${request.method} ${request.url.split('?')[0]}`, 'MSG_NO_MATCH'), request, reply),
  )
  app.decorateRequest('fhir', null)
  app.addHook('onRequest', async (request) => {
    const tenantId = (request.params as { tenant?: string }).tenant ?? ''
    const responseType = negotiateResponseType(request)
    const tenant = await options.tenants.find(tenantId)
    if (!tenant) throw notFound(`Tenant '${tenantId.slice(0, 64)}' is not known on this server`)
    const baseUrl = `${options.serverUrl}/fhir/${tenantId}`
    const rest = request.url.split('?')[0]!.slice(`/fhir/${tenantId}/`.length)
    const auth = PUBLIC_PATHS.has(rest) ? undefined : await options.auth.verify(request.headers.authorization, tenantId)
    // The token's per-resource policy (patient compartment, granular scopes) rides on the scope,
    // so the guarded repository applies it to every read, search and write of this request.
    request.fhir = { tenant, scope: auth?.access ? { tenantId, access: auth.access } : { tenantId }, auth, baseUrl, responseType }
  })
  registerMetadataRoutes(app, options)
  registerHistoryRoutes(app, options)
  registerResourceRoutes(app, options)
  registerBatchRoutes(app, options)
}
