import type { OAuthClient, OAuthStore } from '../resources/index.js'
import { CLIENT_ASSERTION_TYPE } from './client-assertion.js'
import type { ClientRegistry } from './clients.js'
import { OAuthError, single, type FormBody } from './oauth-http.js'

/** How the client proved who it is (RFC 8414 token_endpoint_auth_methods names). */
export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

export interface AuthenticatedClient {
  client: OAuthClient
  method: ClientAuthMethod
}

export interface ClientAuthDeps {
  clients: OAuthStore
  registry: ClientRegistry
  verifyAssertion(assertion: string, claimedClientId: string | undefined): Promise<OAuthClient>
}

// The same text for an unknown client and a wrong secret, so client ids cannot be enumerated.
export const BAD_CLIENT = 'Client authentication failed: unknown client or wrong secret'

/**
 * Authenticates the client of a token, introspection or revocation request, with exactly one
 * method (RFC 6749 §2.3): HTTP Basic, client_secret in the body, a private_key_jwt assertion,
 * or — for a public client only — its bare client_id. Throws OAuthError invalid_client.
 */
export async function authenticateClient(deps: ClientAuthDeps, authorization: string | undefined, form: FormBody): Promise<AuthenticatedClient> {
  const postId = single(form, 'client_id')
  const postSecret = single(form, 'client_secret')
  const assertionType = single(form, 'client_assertion_type')
  const assertion = single(form, 'client_assertion')
  const methods = [authorization !== undefined, postSecret !== undefined, assertion !== undefined || assertionType !== undefined].filter(Boolean).length
  if (methods > 1) throw new OAuthError('invalid_request', 'Use one client authentication method, not several')

  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== CLIENT_ASSERTION_TYPE) throw new OAuthError('invalid_client', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`)
    if (!assertion) throw new OAuthError('invalid_client', 'client_assertion is required with client_assertion_type')
    return { client: await deps.verifyAssertion(assertion, postId), method: 'private_key_jwt' }
  }
  if (authorization !== undefined) {
    const basic = parseBasic(authorization)
    if (!basic) throw new OAuthError('invalid_client', 'Authorization header must be "Basic base64(client_id:client_secret)"')
    if (postId !== undefined && postId !== basic.clientId) throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials')
    return { client: await bySecret(deps, basic.clientId, basic.secret), method: 'client_secret_basic' }
  }
  if (postSecret !== undefined) {
    if (postId === undefined) throw new OAuthError('invalid_client', 'client_secret needs client_id')
    return { client: await bySecret(deps, postId, postSecret), method: 'client_secret_post' }
  }
  if (postId === undefined) {
    throw new OAuthError('invalid_client', 'Client authentication is required: HTTP Basic, client_secret, client_assertion, or client_id for a public client')
  }
  const client = await deps.clients.findClient(postId)
  // A confidential client presenting only its id is refused like an unknown one.
  if (!client || client.client_type !== 'public') throw new OAuthError('invalid_client', 'Client authentication failed: unknown public client, or the client must authenticate')
  return { client, method: 'none' }
}

async function bySecret(deps: ClientAuthDeps, clientId: string, secret: string): Promise<OAuthClient> {
  const client = await deps.registry.authenticateClient(clientId, secret)
  if (!client) throw new OAuthError('invalid_client', BAD_CLIENT)
  return client
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
