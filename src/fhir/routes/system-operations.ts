import type { FastifyInstance } from 'fastify'
import type { FhirPluginOptions } from '../options.js'
import { rejectOtherMethods } from './method-not-allowed.js'
import { callOperation } from './operation-call.js'

/**
 * System-level operations, `[base]/$[code]` (https://hl7.org/fhir/R4/operations.html), such as
 * `$export` and `$import`. The `$` prefix is static in this route, so it is chosen over the
 * `/:type` route for these paths (a percent-encoded `%24` still reaches `/:type`).
 */
export function registerSystemOperationRoutes(app: FastifyInstance, options: FhirPluginOptions) {
  app.route<{ Params: { op: string } }>({
    method: ['GET', 'POST'],
    url: '/$:op',
    handler: (request, reply) => callOperation(request, reply, options, { level: 'system', code: request.params.op }),
  })
  rejectOtherMethods(app, '/$:op', ['GET', 'POST'])
}
