import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Parameters, Resource } from '@medplum/fhirtypes'
import { FhirError, invalid } from '../../errors.js'
import type { PatchDocument, StoredResource } from '../../resources/index.js'
import { fhirContext } from '../context.js'
import { sendWriteResult } from '../headers.js'

/** What the write interactions (plain and conditional) read from a request and how they reply. */

export function headerValue(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The request body as a resource of the URL's type, or a 400 saying what is wrong. */
export function bodyResource(request: FastifyRequest, type: string): Resource {
  const body = request.body
  if (body === undefined || body === null) throw invalid(`The request needs a ${type} resource as its JSON body`, { code: 'required' })
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid(`The request body must be a JSON object (a ${type} resource)`, { code: 'structure' })
  const resourceType = (body as { resourceType?: unknown }).resourceType
  if (resourceType !== type) {
    const found = resourceType === undefined ? 'The body has no resourceType' : `Body resourceType '${String(resourceType)}' does not match`
    throw new FhirError('invalid', `${found}: the URL's type is '${type}'`, {
      expression: ['resourceType'],
      messageId: 'MSG_RESOURCE_TYPE_MISMATCH',
    })
  }
  return body as Resource
}

/** The PATCH body (http.html#patch): JSON Patch by its media type, or a FHIRPath Patch Parameters resource. */
export function patchDocument(request: FastifyRequest): PatchDocument {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim()
  const body = request.body
  if (contentType === 'application/json-patch+json') return { kind: 'json-patch', operations: body }
  if (isParameters(body)) return { kind: 'fhirpath-patch', parameters: body }
  throw invalid('A patch body must be a JSON Patch (Content-Type application/json-patch+json) or a FHIRPath Patch Parameters resource')
}

/** Replies to a write: status, ETag, Last-Modified, Location of the version, body per `Prefer: return=`. */
export function sendWritten(request: FastifyRequest, reply: FastifyReply, stored: StoredResource, status: number, verb: string) {
  const { baseUrl } = fhirContext(request)
  const ref = `${stored.resourceType}/${stored.id}`
  return sendWriteResult(request, reply, stored, {
    status,
    location: `${baseUrl}/${ref}/_history/${stored.versionId}`,
    message: `Resource ${ref} ${verb}: version ${stored.versionId}`,
  })
}

function isParameters(body: unknown): body is Parameters {
  return typeof body === 'object' && body !== null && (body as { resourceType?: unknown }).resourceType === 'Parameters'
}
