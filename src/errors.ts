/**
 * The one error type thrown below the HTTP edge. `src/fhir/outcome.ts` owns the
 * kind → HTTP status table; nothing else knows status codes.
 */
export type FhirErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'not-acceptable'
  | 'conflict'
  | 'gone'
  | 'precondition-failed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'unprocessable'
  | 'throttled'
  | 'internal'

export interface FhirIssue {
  severity?: 'fatal' | 'error' | 'warning' | 'information'
  /** OperationOutcome issue.code; defaults from the kind when absent. */
  code?: string
  diagnostics: string
  /** FHIRPath expressions pointing at the offending element. */
  expression?: string[]
  /** A code from http://terminology.hl7.org/CodeSystem/operation-outcome (MSG_*). */
  messageId?: string
}

export class FhirError extends Error {
  readonly kind: FhirErrorKind
  readonly issues: readonly FhirIssue[]
  readonly headers: Readonly<Record<string, string>>

  constructor(
    kind: FhirErrorKind,
    diagnostics: string,
    options: { issues?: FhirIssue[]; headers?: Record<string, string>; code?: string; messageId?: string; expression?: string[] } = {},
  ) {
    super(diagnostics)
    this.name = 'FhirError'
    this.kind = kind
    this.issues = options.issues?.length
      ? options.issues
      : [{ diagnostics, code: options.code, messageId: options.messageId, expression: options.expression }]
    this.headers = options.headers ?? {}
  }
}

export const isFhirError = (e: unknown): e is FhirError => e instanceof FhirError

export const invalid = (diagnostics: string, options: { code?: string; expression?: string[]; messageId?: string } = {}) =>
  new FhirError('invalid', diagnostics, options)

export const invalidIssues = (diagnostics: string, issues: FhirIssue[]) => new FhirError('invalid', diagnostics, { issues })

export const notFound = (diagnostics: string, messageId = 'MSG_NO_EXIST') => new FhirError('not-found', diagnostics, { messageId })

export const gone = (ref: string, versionId: string, lastUpdated: string) =>
  new FhirError('gone', `Resource ${ref} was deleted`, {
    messageId: 'MSG_DELETED_ID',
    headers: { etag: `W/"${versionId}"`, 'last-modified': new Date(lastUpdated).toUTCString() },
  })

export const forbidden = (diagnostics: string) => new FhirError('forbidden', diagnostics)

export const unauthorized = (diagnostics: string) =>
  new FhirError('unauthorized', diagnostics, { headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${diagnostics.replace(/"/g, "'")}"` } })

export const preconditionFailed = (diagnostics: string, messageId?: string) =>
  new FhirError('precondition-failed', diagnostics, { messageId })

export const conflict = (diagnostics: string) => new FhirError('conflict', diagnostics)

/** `allow` lists the methods the resource does answer (RFC 9110 §15.5.6: a 405 carries an Allow header). */
export const methodNotAllowed = (diagnostics: string, allow: readonly string[]) =>
  new FhirError('method-not-allowed', diagnostics, { headers: { allow: allow.join(', ') } })

export const unprocessable = (diagnostics: string, issues?: FhirIssue[]) => new FhirError('unprocessable', diagnostics, { issues })
