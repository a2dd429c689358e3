import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import { invalid, methodNotAllowed, notFound } from '../../errors.js'
import type { OperationLevel } from '../../operations/index.js'
import { authOf, fhirContext } from '../context.js'
import { isNotModified, parseIfMatch, sendResource, setVersionHeaders } from '../headers.js'
import type { FhirPluginOptions } from '../options.js'
import { knownType } from '../resource-type.js'
import { createIfNoneExist, deleteByCriteria, ifNoneExistOf, patchByCriteria, updateByCriteria, urlCriteria } from './conditional.js'
import { callOperation } from './operation-call.js'
import { searchType } from './search.js'
import { bodyResource, headerValue as header, patchDocument, sendWritten as written } from './write-request.js'

type Params = { tenant: string; type: string; id: string; op: string }

/**
 * Type and instance interactions (https://hl7.org/fhir/R4/http.html): create, read, update,
 * patch, delete, their conditional forms (conditional.ts), type search and operations. Each path
 * answers every method; a method that is not offered gets 405, not 404.
 */
export function registerResourceRoutes(app: FastifyInstance, options: FhirPluginOptions) {
  const { repo } = options
  // HEAD answers like GET (Node drops the body of a HEAD response).
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

  app.route<{ Params: Params }>({
    method: [...methods],
    url: '/:type',
    handler: async (request, reply) => {
      const type = knownType(request.params.type)
      switch (request.method) {
        case 'GET':
        case 'HEAD':
          return searchType(repo, request, reply, type, request.query as Record<string, unknown>)
        case 'POST':
          return create(request, reply, type)
        default: {
          // PUT/PATCH/DELETE [base]/[type]?criteria are the conditional forms; an empty `?` is a 400 there.
          const criteria = urlCriteria(request)
          if (criteria === undefined || !['PUT', 'PATCH', 'DELETE'].includes(request.method)) {
            throw methodNotAllowed(
              `${request.method} on [base]/${type} needs an id ([base]/${type}/[id]) or search criteria (conditional: ${request.method} [base]/${type}?identifier=...)`,
              ['GET', 'POST'],
            )
          }
          if (request.method === 'PUT') return updateByCriteria(repo, request, reply, type, criteria)
          if (request.method === 'PATCH') return patchByCriteria(repo, request, reply, type, criteria)
          return deleteByCriteria(repo, request, reply, type, criteria)
        }
      }
    },
  })

  app.route<{ Params: Params }>({
    method: [...methods],
    url: '/:type/_search',
    handler: async (request, reply) => {
      const type = knownType(request.params.type)
      if (request.method !== 'POST') throw methodNotAllowed(`Use POST for [base]/${type}/_search, or GET [base]/${type}?params`, ['POST'])
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
      const query: Record<string, string | string[]> = { ...(request.query as Record<string, string>) }
      for (const [k, v] of form) {
        const prev = query[k]
        query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
      }
      return searchType(repo, request, reply, type, query)
    },
  })

  app.route<{ Params: Params }>({
    method: [...methods],
    url: '/:type/:id',
    handler: async (request, reply) => {
      const type = knownType(request.params.type)
      const id = request.params.id
      if (id.startsWith('$')) return operation(request, reply, 'type', type, undefined, id.slice(1))
      const { scope } = fhirContext(request)
      const auth = authOf(request)
      switch (request.method) {
        case 'GET':
        case 'HEAD': {
          assertAllowed(auth, type, 'read')
          const stored = await repo.read(scope, type, id)
          if (isNotModified(request, stored)) {
            setVersionHeaders(reply, stored)
            return reply.code(304).send()
          }
          return sendResource(request, reply, stored)
        }
        case 'PUT': {
          assertAllowed(auth, type, 'update')
          const resource = bodyResource(request, type)
          if (resource.id !== id) {
            throw invalid(`Resource id '${String(resource.id ?? '')}' does not match the id '${id}' in the URL`, {
              expression: [`${type}.id`],
              messageId: resource.id ? 'MSG_RESOURCE_ID_MISMATCH' : 'MSG_RESOURCE_ID_MISSING',
            })
          }
          const result = await repo.update(scope, resource, { ifMatch: parseIfMatch(header(request, 'if-match')) })
          return written(request, reply, result.stored, result.created ? 201 : 200, 'updated')
        }
        case 'PATCH': {
          assertAllowed(auth, type, 'update')
          const patch = patchDocument(request)
          const result = await repo.patch(scope, type, id, patch, { ifMatch: parseIfMatch(header(request, 'if-match')) })
          return written(request, reply, result.stored, 200, 'patched')
        }
        case 'DELETE': {
          assertAllowed(auth, type, 'delete')
          const result = await repo.delete(scope, type, id, { ifMatch: parseIfMatch(header(request, 'if-match')) })
          if (result.versionId) reply.header('etag', `W/"${result.versionId}"`)
          return reply.code(204).send()
        }
        default:
          throw methodNotAllowed(`${request.method} is not allowed on [base]/${type}/${id}; use GET, PUT, PATCH or DELETE`, ['GET', 'PUT', 'PATCH', 'DELETE'])
      }
    },
  })

  app.route<{ Params: Params }>({
    method: [...methods],
    url: '/:type/:id/:op',
    handler: async (request, reply) => {
      const type = knownType(request.params.type)
      const { id, op } = request.params
      if (!op.startsWith('$')) throw notFound(`No FHIR interaction at [base]/${type}/${id}/${op}`, 'MSG_NO_MATCH')
      return operation(request, reply, 'instance', type, id, op.slice(1))
    },
  })

  async function create(request: FastifyRequest, reply: FastifyReply, type: string) {
    const ifNoneExist = ifNoneExistOf(request)
    if (ifNoneExist !== undefined) return createIfNoneExist(repo, request, reply, type, ifNoneExist)
    assertAllowed(authOf(request), type, 'create')
    const resource = bodyResource(request, type)
    const { scope } = fhirContext(request)
    const result = await repo.create(scope, resource)
    return written(request, reply, result.stored, 201, 'created')
  }

  // Every operation, at every level, goes through one dispatcher (async jobs, caller, headers).
  function operation(request: FastifyRequest, reply: FastifyReply, level: OperationLevel, type: string, id: string | undefined, code: string) {
    return callOperation(request, reply, options, { level, type, id, code })
  }
}
