import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { OAuthClient } from '../resources/index.js'
import { narrowScope } from './scopes.js'

/**
 * POST /oauth2/token — the OAuth 2.0 token endpoint, client_credentials grant only for now.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.4 (grant), §2.3.1 (client_secret_basic and
 * client_secret_post), §5.1/§5.2 (responses); SMART Backend Services use the same endpoint.
 * Errors are RFC 6749 JSON, not OperationOutcome: this plugin sits outside the FHIR base.
 */

export interface TokenRouteDeps {
  authenticateClient(clientId: string, secret: string): Promise<OAuthClient | undefined>
  issueToken(grant: { tenantId: string; clientId: string; scope: string }): Promise<{ access_token: string; expires_in: number }>
}

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope'

class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    description: string,
  ) {
    super(description)
  }
}

type FormBody = Map<string, string[]>

const FORM_BODY_LIMIT = 16 * 1024
// The same text for an unknown client and a wrong secret, so client ids cannot be enumerated.
const BAD_CLIENT = 'Client authentication failed: unknown client or wrong secret'

export function tokenRoutes(deps: TokenRouteDeps): FastifyPluginAsync {
  return async (app) => {
    // Encapsulated: the form parser and the OAuth error format apply to this plugin's routes only.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
      const form: FormBody = new Map()
      for (const [name, value] of new URLSearchParams(body as string)) form.set(name, [...(form.get(name) ?? []), value])
      done(null, form)
    })

    app.setErrorHandler((err, _req, reply) => {
      if (err instanceof OAuthError) return sendError(reply, err)
      const status = (err as { statusCode?: number }).statusCode
      if (status !== undefined && status >= 400 && status < 500) {
        // Fastify's own refusals (unsupported content type, body too large, bad encoding).
        return sendError(reply, new OAuthError('invalid_request', err instanceof Error ? err.message : 'Bad request'))
      }
      throw err
    })

    app.post('/oauth2/token', async (req, reply) => {
      if (!(req.body instanceof Map)) throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded')
      const form = req.body as FormBody
      const grantType = single(form, 'grant_type')
      if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required')
      if (grantType !== 'client_credentials') {
        throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported; use client_credentials`)
      }
      const credentials = clientCredentials(req.headers.authorization, form)
      const client = await deps.authenticateClient(credentials.clientId, credentials.secret)
      if (!client) throw new OAuthError('invalid_client', BAD_CLIENT)

      const requested = single(form, 'scope')
      const scope = requested === undefined ? client.scope : narrowScope(requested, client.scope)
      if (!scope) throw new OAuthError('invalid_scope', `None of the requested scopes is registered for client ${client.client_id}`)

      const token = await deps.issueToken({ tenantId: client.tenant_id, clientId: client.client_id, scope })
      return reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send({ access_token: token.access_token, token_type: 'Bearer', expires_in: token.expires_in, scope })
    })
  }
}

/** A parameter sent at most once (RFC 6749 §3.2: parameters MUST NOT be repeated). */
function single(form: FormBody, name: string): string | undefined {
  const values = form.get(name)
  if (values && values.length > 1) throw new OAuthError('invalid_request', `${name} must not be repeated`)
  return values?.[0]
}

/** client_secret_basic or client_secret_post, never both (RFC 6749 §2.3). */
function clientCredentials(authorization: string | undefined, form: FormBody): { clientId: string; secret: string } {
  const postId = single(form, 'client_id')
  const postSecret = single(form, 'client_secret')
  if (authorization !== undefined) {
    if (postSecret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method, not both Basic and client_secret')
    const basic = parseBasic(authorization)
    if (!basic) throw new OAuthError('invalid_client', 'Authorization header must be "Basic base64(client_id:client_secret)"')
    if (postId !== undefined && postId !== basic.clientId) throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials')
    return basic
  }
  if (postId === undefined || postSecret === undefined) {
    throw new OAuthError('invalid_client', 'Client authentication is required: HTTP Basic or client_id and client_secret in the body')
  }
  return { clientId: postId, secret: postSecret }
}

function parseBasic(authorization: string): { clientId: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization)
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const clientId = formDecode(decoded.slice(0, colon))
  const secret = formDecode(decoded.slice(colon + 1))
  return clientId && secret !== undefined ? { clientId, secret } : undefined
}

function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

function sendError(reply: FastifyReply, err: OAuthError) {
  const status = err.code === 'invalid_client' ? 401 : 400
  if (status === 401) reply.header('www-authenticate', 'Basic realm="oauth2", charset="UTF-8"')
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({ error: err.code, error_description: err.message })
}
