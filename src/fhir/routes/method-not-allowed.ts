import type { FastifyInstance } from 'fastify'
import { methodNotAllowed } from '../../errors.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/**
 * Answers the methods a known path does not offer with 405 and an Allow header instead of the
 * 404 of an unknown path (https://hl7.org/fhir/R4/http.html#general: a wrong method is 405).
 */
export function rejectOtherMethods(app: FastifyInstance, url: string, allowed: readonly (typeof METHODS)[number][]) {
  app.route({
    method: METHODS.filter((m) => !allowed.includes(m)),
    url,
    handler: async (request) => {
      throw methodNotAllowed(`${request.method} is not allowed here; use ${allowed.join(' or ')}`, allowed)
    },
  })
}
