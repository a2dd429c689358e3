import type { FastifyInstance } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import { processBundle } from '../../bundles/index.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { parsePreferReturn } from '../headers.js'
import type { FhirPluginOptions } from '../options.js'
import { responseBundle } from './batch-response.js'

/** Entry limit when the composition root sets none (MAX_BUNDLE_ENTRIES). */
export const DEFAULT_MAX_BUNDLE_ENTRIES = 10_000

/**
 * batch and transaction — https://hl7.org/fhir/R4/http.html#transaction. `POST [base]` with a
 * Bundle; each entry needs the caller's scope for its own interaction (a batch entry without it
 * answers 403, a transaction fails as a whole with 403).
 */
export function registerBatchRoutes(app: FastifyInstance, options: FhirPluginOptions) {
  app.post('/', async (request, reply) => {
    const { scope, baseUrl } = fhirContext(request)
    const auth = authOf(request)
    const result = await processBundle(
      {
        repo: options.repo,
        scope,
        baseUrl,
        maxEntries: options.maxBundleEntries ?? DEFAULT_MAX_BUNDLE_ENTRIES,
        authorize: (resourceType, interaction) => assertAllowed(auth, resourceType, interaction),
        onUnexpectedError: (err, entry) => request.log.error({ err, entry, method: request.method, url: request.url }, 'unhandled error in a batch entry'),
      },
      request.body,
    )
    return sendJson(request, reply, responseBundle(result, baseUrl, parsePreferReturn(request)))
  })
}
