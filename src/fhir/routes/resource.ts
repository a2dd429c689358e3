import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Parameters, Resource } from '@medplum/fhirtypes'
import { assertAllowed } from '../../auth/index.js'
import { FhirError, invalid, methodNotAllowed, notFound } from '../../errors.js'
import { findOperation, type OperationLevel } from '../../operations/index.js'
import type { StoredResource } from '../../resources/index.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { isNotModified, parseIfMatch, sendResource, sendWriteResult, setVersionHeaders } from '../headers.js'
import type { FhirPluginOptions } from '../options.js'
import { knownType } from '../resource-type.js'
import { searchType } from './search.js'

type Params = { tenant: string; type: string; id: string; op: string }

/**
 * Type and instance interactions (https://hl7.org/fhir/R4/http.html): create, read, update,
 * patch, delete, type search and operations. Each path answers every method; a method that
 * is not offered gets 405, not 404.
 */
export function registerResourceRoutes(app: FastifyInstance, { repo }: FhirPluginOptions) {
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
        default:
          throw methodNotAllowed(`${request.method} on [base]/${type} (conditional ${request.method === 'DELETE' ? 'delete' : 'update'}) is not supported yet`, ['GET', 'POST'])
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
          const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim()
          const body = request.body
          const patch =
            contentType === 'application/json-patch+json'
              ? ({ kind: 'json-patch', operations: body } as const)
              : isParameters(body)
                ? ({ kind: 'fhirpath-patch', parameters: body } as const)
                : undefined
          if (!patch) {
            throw invalid('A patch body must be a JSON Patch (Content-Type application/json-patch+json) or a FHIRPath Patch Parameters resource')
          }
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
    assertAllowed(authOf(request), type, 'create')
    const resource = bodyResource(request, type)
    const { scope } = fhirContext(request)
    const result = await repo.create(scope, resource)
    return written(request, reply, result.stored, 201, 'created')
  }

  function written(request: FastifyRequest, reply: FastifyReply, stored: StoredResource, status: number, verb: string) {
    const { baseUrl } = fhirContext(request)
    const ref = `${stored.resourceType}/${stored.id}`
    return sendWriteResult(request, reply, stored, {
      status,
      location: `${baseUrl}/${ref}/_history/${stored.versionId}`,
      message: `Resource ${ref} ${verb}: version ${stored.versionId}`,
    })
  }

  async function operation(request: FastifyRequest, reply: FastifyReply, level: OperationLevel, type: string, id: string | undefined, code: string) {
    const descriptor = findOperation(code, level, type)
    if (!descriptor) throw notFound(`Operation $${code} is not supported at ${level} level on ${type}`, 'MSG_OP_NOT_ALLOWED')
    if (request.method !== 'POST' && !(request.method === 'GET' && !descriptor.affectsState)) {
      throw methodNotAllowed(`$${code} accepts ${descriptor.affectsState ? 'POST' : 'GET and POST'}, not ${request.method}`, descriptor.affectsState ? ['POST'] : ['GET', 'POST'])
    }
    assertAllowed(authOf(request), type, 'operation')
    const result = await descriptor.run({
      repo,
      scope: fhirContext(request).scope,
      level,
      resourceType: type,
      id,
      body: request.method === 'POST' ? request.body : undefined,
      query: request.query as Record<string, string>,
    })
    return sendJson(request, reply, JSON.stringify(result.resource), result.status)
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function isParameters(body: unknown): body is Parameters {
  return typeof body === 'object' && body !== null && (body as { resourceType?: unknown }).resourceType === 'Parameters'
}

/** The request body as a resource of the URL's type, or a 400 saying what is wrong. */
function bodyResource(request: FastifyRequest, type: string): Resource {
  const body = request.body
  if (body === undefined || body === null) throw invalid(`The request needs a ${type} resource as its JSON body`, { code: 'required' })
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid(`The request body must be a JSON object (a ${type} resource)`, { code: 'structure' })
  const resourceType = (body as { resourceType?: unknown }).resourceType
  if (resourceType !== type) {
    throw new FhirError('invalid', `Body resourceType '${String(resourceType)}' does not match the URL type '${type}'`, {
      expression: ['resourceType'],
      messageId: 'MSG_RESOURCE_TYPE_MISMATCH',
    })
  }
  return body as Resource
}
