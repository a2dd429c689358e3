import type { FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed, type Interaction } from '../../auth/index.js'
import {
  conditionalCreate,
  conditionalDelete,
  conditionalPatch,
  conditionalUpdate,
  parseCriteria,
  type Repository,
} from '../../resources/index.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { etagOf, parseIfMatch, parsePreferReturn } from '../headers.js'
import { informationOutcome } from '../outcome.js'
import { bodyResource, headerValue, patchDocument, sendWritten } from './write-request.js'

/**
 * Conditional interactions over HTTP: create with `If-None-Exist` (http.html#ccreate),
 * `PUT [base]/[type]?criteria` (#cond-update), `PATCH [base]/[type]?criteria` (#patch) and
 * `DELETE [base]/[type]?criteria` (#cdelete, several matches deleted, up to
 * MAX_CONDITIONAL_DELETE). Each is one repository call that locks, searches and writes in one
 * transaction (src/resources/conditional-interactions.ts). A conditional interaction also searches,
 * so the token needs the search scope of the type besides the write's own.
 */

/** The criteria of a conditional URL (the raw query after `?`), or undefined when the URL has no `?`. */
export function urlCriteria(request: FastifyRequest): string | undefined {
  const q = request.url.indexOf('?')
  return q < 0 ? undefined : request.url.slice(q + 1)
}

/** `If-None-Exist: [search parameters]`; a client that sends `Type?params` or a full URL is understood too. */
export function ifNoneExistOf(request: FastifyRequest): string | undefined {
  const value = headerValue(request, 'if-none-exist')
  if (value === undefined) return undefined
  const q = value.indexOf('?')
  return q < 0 ? value.trim() : value.slice(q + 1)
}

export async function createIfNoneExist(repo: Repository, request: FastifyRequest, reply: FastifyReply, type: string, criteria: string) {
  allow(request, type, 'create')
  const resource = bodyResource(request, type)
  const result = await conditionalCreate(repo, fhirContext(request).scope, resource, parseCriteria(type, criteria))
  // One match: "the server ignores the post and returns 200 OK" with that resource (per Prefer).
  if (result.outcome === 'matched') return sendWritten(request, reply, result.stored, 200, 'matched If-None-Exist; nothing was written to')
  return sendWritten(request, reply, result.stored, 201, 'created')
}

export async function updateByCriteria(repo: Repository, request: FastifyRequest, reply: FastifyReply, type: string, criteria: string) {
  allow(request, type, 'update')
  const resource = bodyResource(request, type)
  const ifMatch = parseIfMatch(headerValue(request, 'if-match'))
  const result = await conditionalUpdate(repo, fhirContext(request).scope, resource, parseCriteria(type, criteria), { ifMatch })
  return sendWritten(request, reply, result.stored, result.outcome === 'created' ? 201 : 200, result.outcome)
}

export async function patchByCriteria(repo: Repository, request: FastifyRequest, reply: FastifyReply, type: string, criteria: string) {
  allow(request, type, 'update')
  const patch = patchDocument(request)
  const ifMatch = parseIfMatch(headerValue(request, 'if-match'))
  const result = await conditionalPatch(repo, fhirContext(request).scope, type, parseCriteria(type, criteria), patch, { ifMatch })
  return sendWritten(request, reply, result.stored, 200, 'patched')
}

/** 204, with the ETag of the deleting version when one resource was deleted; 200 and a summary under `Prefer: return=OperationOutcome`. */
export async function deleteByCriteria(repo: Repository, request: FastifyRequest, reply: FastifyReply, type: string, criteria: string) {
  allow(request, type, 'delete')
  const { deleted } = await conditionalDelete(repo, fhirContext(request).scope, type, parseCriteria(type, criteria))
  const only = deleted.length === 1 ? deleted[0] : undefined
  if (only?.versionId) reply.header('etag', etagOf(only.versionId))
  if (parsePreferReturn(request) === 'OperationOutcome') {
    const list = deleted.map((d) => `${type}/${d.id}`).join(', ')
    const message = deleted.length === 0 ? `No ${type} matched; nothing was deleted` : `Deleted ${deleted.length} ${type}: ${list}`
    return sendJson(request, reply, JSON.stringify(informationOutcome(message)), 200)
  }
  return reply.code(204).send()
}

function allow(request: FastifyRequest, type: string, interaction: Interaction) {
  const auth = authOf(request)
  assertAllowed(auth, type, interaction)
  assertAllowed(auth, type, 'search')
}
