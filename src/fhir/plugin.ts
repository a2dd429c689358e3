import type { FastifyPluginAsync } from 'fastify'
import type { FhirPluginOptions } from './options.js'
import { isFhirError, notFound } from '../errors.js'
import { negotiateResponseType, registerBodyParsers } from './content-type.js'
import { fhirErrorHandler } from './outcome.js'
import { registerBatchRoutes } from './routes/batch.js'
import { registerCompartmentSearchRoutes } from './routes/compartment-search.js'
import { registerSystemSearchRoutes } from './routes/system-search.js'
import { registerHistoryRoutes } from './routes/history.js'
import { registerMetadataRoutes } from './routes/metadata.js'
import { registerResourceRoutes } from './routes/resource.js'
import { NDJSON, registerJobRoutes } from './routes/jobs.js'
import { registerSystemOperationRoutes } from './routes/system-operations.js'

export type { FhirPluginOptions } from './options.js'

/** Paths under /fhir/{tenant} that answer without a token (capability discovery). */
/** `[base]/$job/<id>/file/<name>`: answered as application/fhir+ndjson. */
const BULK_FILE = /^\/fhir\/[^/?]+\/\$job\/[^/?]+\/file\/[^/?]+(\?|$)/

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
  // Requests whose tenant exists: only those can have their refusal audited in it.
  const tenantOf = new WeakMap<object, string>()
  app.addHook('onRequest', async (request) => {
    const tenantId = (request.params as { tenant?: string }).tenant ?? ''
    // Bulk files are NDJSON whatever the client accepts (Bulk Data clients send application/fhir+ndjson).
    const responseType = BULK_FILE.test(request.url) ? NDJSON : negotiateResponseType(request)
    const tenant = await options.tenants.find(tenantId)
    if (!tenant) throw notFound(`Tenant '${tenantId.slice(0, 64)}' is not known on this server`)
    tenantOf.set(request, tenantId)
    const baseUrl = `${options.serverUrl}/fhir/${tenantId}`
    const rest = request.url.split('?')[0]!.slice(`/fhir/${tenantId}/`.length)
    const auth = PUBLIC_PATHS.has(rest) ? undefined : await options.auth.verify(request.headers.authorization, tenantId)
    // The token's per-resource policy (patient compartment, granular scopes) rides on the scope,
    // so the guarded repository applies it to every read, search and write of this request.
    request.fhir = { tenant, scope: auth?.access ? { tenantId, access: auth.access } : { tenantId }, auth, baseUrl, responseType }
  })
  // Every refusal (bad token 401, scope or access policy 403) leaves an AuditEvent in the tenant
  // (issue 5 item 7), rate-limited by src/auth; awaited so it is written before the answer.
  app.addHook('onError', async (request, _reply, error) => {
    if (!isFhirError(error) || (error.kind !== 'unauthorized' && error.kind !== 'forbidden')) return
    const tenantId = tenantOf.get(request)
    if (!tenantId) return
    const auth = request.fhir?.auth
    await options.auth.recordRefusal({
      tenantId,
      status: error.kind === 'unauthorized' ? 401 : 403,
      method: request.method,
      url: request.url,
      address: request.ip,
      detail: error.issues[0]?.diagnostics,
      clientId: auth?.clientId,
      userId: auth?.userId,
      fhirUser: auth?.fhirUser,
    })
  })
  registerMetadataRoutes(app, options)
  registerHistoryRoutes(app, options)
  registerResourceRoutes(app, options)
  registerBatchRoutes(app, options)
  registerSystemSearchRoutes(app, options)
  registerCompartmentSearchRoutes(app, options)
  registerSystemOperationRoutes(app, options)
  registerJobRoutes(app, options)
}
