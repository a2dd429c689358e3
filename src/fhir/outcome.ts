import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes'
import { FhirError, type FhirErrorKind, type FhirIssue } from '../errors.js'

/** The one table from error kind to HTTP status and default issue.code (STYLE.md, "Error handling"). */
export const ERROR_TABLE: Readonly<Record<FhirErrorKind, { status: number; code: OperationOutcomeIssue['code'] }>> = {
  invalid: { status: 400, code: 'invalid' },
  unauthorized: { status: 401, code: 'login' },
  forbidden: { status: 403, code: 'forbidden' },
  'not-found': { status: 404, code: 'not-found' },
  'method-not-allowed': { status: 405, code: 'not-supported' },
  'not-acceptable': { status: 406, code: 'not-supported' },
  conflict: { status: 409, code: 'conflict' },
  gone: { status: 410, code: 'deleted' },
  'precondition-failed': { status: 412, code: 'conflict' },
  'payload-too-large': { status: 413, code: 'too-costly' },
  'unsupported-media-type': { status: 415, code: 'not-supported' },
  unprocessable: { status: 422, code: 'processing' },
  throttled: { status: 429, code: 'throttled' },
  internal: { status: 500, code: 'exception' },
}

const MESSAGE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/operation-outcome'

export function toIssue(issue: FhirIssue, defaultCode: OperationOutcomeIssue['code']): OperationOutcomeIssue {
  return {
    severity: issue.severity ?? 'error',
    code: (issue.code as OperationOutcomeIssue['code']) ?? defaultCode,
    ...(issue.messageId ? { details: { coding: [{ system: MESSAGE_SYSTEM, code: issue.messageId }] } } : {}),
    diagnostics: issue.diagnostics,
    ...(issue.expression?.length ? { expression: issue.expression } : {}),
  }
}

/** FhirError → status, OperationOutcome and headers. */
export function toOperationOutcome(error: FhirError): { status: number; outcome: OperationOutcome; headers: Record<string, string> } {
  const row = ERROR_TABLE[error.kind]
  return {
    status: row.status,
    outcome: { resourceType: 'OperationOutcome', issue: error.issues.map((i) => toIssue(i, row.code)) },
    headers: { ...error.headers },
  }
}

export function informationOutcome(diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics }] }
}

/** Fastify's own errors (body parsing, limits, media types) in FhirError terms. */
function fromFastifyError(error: FastifyError): FhirError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FhirError('payload-too-large', `Request body is larger than the server limit (${error.message})`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FhirError('unsupported-media-type', 'Unsupported Content-Type: send application/fhir+json or application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FhirError('invalid', error.message)
    default:
      break
  }
  if (error.validation) {
    const first = error.validation[0]
    const where = `${error.validationContext ?? 'request'}${first?.instancePath ?? ''}`
    return new FhirError('invalid', `Invalid ${where}: ${first?.message ?? error.message}`, { expression: [where] })
  }
  if (error.statusCode === 400 || error.statusCode === 413 || error.statusCode === 415) {
    return new FhirError(error.statusCode === 413 ? 'payload-too-large' : error.statusCode === 415 ? 'unsupported-media-type' : 'invalid', error.message)
  }
  return undefined
}

/** The FHIR scope's error handler: every failure leaves as an OperationOutcome. */
export function fhirErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const fhirError =
    error instanceof FhirError ? error : typeof error === 'object' && error !== null ? fromFastifyError(error as FastifyError) : undefined
  if (!fhirError) {
    request.log.error({ err: error, tenant: (request.params as { tenant?: string })?.tenant, method: request.method, url: request.url }, 'unhandled error')
    return sendOutcome(reply, new FhirError('internal', 'Internal server error'))
  }
  if (fhirError.kind === 'internal') request.log.error({ err: error }, 'internal error')
  return sendOutcome(reply, fhirError)
}

export function sendOutcome(reply: FastifyReply, error: FhirError) {
  const { status, outcome, headers } = toOperationOutcome(error)
  return reply.code(status).headers(headers).type('application/fhir+json; charset=utf-8').send(JSON.stringify(outcome))
}
