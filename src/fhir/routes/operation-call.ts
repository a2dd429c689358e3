import type { FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed, type AuthContext } from '../../auth/index.js'
import { methodNotAllowed, notFound } from '../../errors.js'
import { findOperation, type OperationCaller, type OperationLevel } from '../../operations/index.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import type { FhirPluginOptions } from '../options.js'

/**
 * Calls an operation (https://hl7.org/fhir/R4/operations.html) at any level: finds its descriptor,
 * checks the method and the token, hands `run` the parsed request and sends its result (status,
 * extra headers such as an async job's Content-Location, and the resource).
 */
export async function callOperation(
  request: FastifyRequest,
  reply: FastifyReply,
  options: FhirPluginOptions,
  target: { level: OperationLevel; type?: string; id?: string; code: string },
) {
  const { level, type, id, code } = target
  const descriptor = findOperation(code, level, type)
  if (!descriptor) throw notFound(`Operation $${code} is not supported at ${level} level${type ? ` on ${type}` : ''}`, 'MSG_OP_NOT_ALLOWED')
  if (request.method !== 'POST' && !(request.method === 'GET' && !descriptor.affectsState)) {
    throw methodNotAllowed(`$${code} accepts ${descriptor.affectsState ? 'POST' : 'GET and POST'}, not ${request.method}`, descriptor.affectsState ? ['POST'] : ['GET', 'POST'])
  }
  const auth = authOf(request)
  if (!descriptor.checksScopes) assertAllowed(auth, type ?? '*', 'operation', { level: level === 'system' ? 'system' : 'type' })
  const { scope, baseUrl } = fhirContext(request)
  const result = await descriptor.run({
    repo: options.repo,
    scope,
    level,
    resourceType: type,
    id,
    body: request.method === 'POST' ? request.body : undefined,
    query: request.query as Record<string, string>,
    jobs: options.jobs,
    stores: options.operationStores,
    caller: operationCaller(auth),
    baseUrl,
    requestUrl: `${options.serverUrl}${request.url}`,
    headers: headersOf(request),
  })
  if (result.headers) void reply.headers(result.headers)
  return sendJson(request, reply, result.json ?? JSON.stringify(result.resource), result.status)
}

/** The job owner string: the token's client and, for user tokens, its user and patient. */
export function ownerOf(auth: AuthContext): string {
  return [auth.clientId, auth.userId ?? auth.fhirUser ?? '', auth.patient ?? ''].join('|')
}

function operationCaller(auth: AuthContext): OperationCaller {
  return {
    owner: ownerOf(auth),
    patient: auth.patient,
    allowsType(resourceType, interaction) {
      try {
        assertAllowed(auth, resourceType, interaction, { level: 'type' })
        return true
      } catch {
        return false
      }
    },
  }
}

function headersOf(request: FastifyRequest): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'authorization' || name === 'cookie') continue
    headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}
