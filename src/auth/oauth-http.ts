import type { FastifyInstance, FastifyReply } from 'fastify'

/**
 * What every OAuth endpoint here shares: the form body parser, RFC 6749 §5.2 error JSON
 * (never OperationOutcome: these routes sit outside the FHIR base) and no-store headers.
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    description: string,
  ) {
    super(description)
  }
}

export type FormBody = Map<string, string[]>

const FORM_BODY_LIMIT = 16 * 1024

/** Registers the urlencoded parser (as a Map, to see repeated parameters) and the OAuth error handler. */
export function registerOAuthHttp(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
    done(null, parseForm(body as string))
  })
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof OAuthError) return sendOAuthError(reply, err)
    const status = (err as { statusCode?: number }).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      // Fastify's own refusals (unsupported content type, body too large, bad encoding).
      return sendOAuthError(reply, new OAuthError('invalid_request', err instanceof Error ? err.message : 'Bad request'))
    }
    throw err
  })
}

export function parseForm(body: string): FormBody {
  const form: FormBody = new Map()
  for (const [name, value] of new URLSearchParams(body)) form.set(name, [...(form.get(name) ?? []), value])
  return form
}

export function formOf(body: unknown): FormBody {
  if (!(body instanceof Map)) throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded')
  return body as FormBody
}

/** A parameter sent at most once (RFC 6749 §3.2: parameters MUST NOT be repeated). */
export function single(form: FormBody, name: string): string | undefined {
  const values = form.get(name)
  if (values && values.length > 1) throw new OAuthError('invalid_request', `${name} must not be repeated`)
  return values?.[0]
}

export function required(form: FormBody, name: string): string {
  const value = single(form, name)
  if (value === undefined || value === '') throw new OAuthError('invalid_request', `${name} is required`)
  return value
}

export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
}

export function sendOAuthError(reply: FastifyReply, err: OAuthError) {
  const status = err.code === 'invalid_client' ? 401 : err.code === 'server_error' ? 500 : 400
  if (status === 401) reply.header('www-authenticate', 'Basic realm="oauth2", charset="UTF-8"')
  return noStore(reply.code(status)).send({ error: err.code, error_description: err.message })
}
