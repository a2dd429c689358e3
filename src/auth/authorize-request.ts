import type { OAuthClient } from '../resources/index.js'
import { audienceOf } from './access-token.js'
import type { AuthCore } from './core.js'
import type { OAuthErrorCode } from './oauth-http.js'
import type { Locale } from './pages/i18n.js'

/**
 * The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, SMART App Launch
 * app-launch.html#obtain-authorization-code) once validated, as it travels signed through the
 * sign-in pages. `tenantId` is fixed by `aud`, or chosen on the clinic picker by an all-tenant app.
 */
export interface PendingRequest {
  clientId: string
  redirectUri: string
  state?: string
  scope: string
  aud: string
  tenantId?: string
  codeChallenge: string
  nonce?: string
  launch?: string
  locale: Locale
  /** The patient picked on the patient picker. */
  patient?: string
}

/** Errors shown on a page: the redirect URI cannot be trusted (RFC 6749 §4.1.2.1). */
export class UntrustedRequestError extends Error {}

/** Errors sent back to the app's redirect URI with `error` and `state`. */
export class RedirectableError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    description: string,
    readonly redirectUri: string,
    readonly state: string | undefined,
  ) {
    super(description)
  }
}

const MAX_PARAM = 2048

export async function validateAuthorizeRequest(core: AuthCore, params: ReadonlyMap<string, string>, locale: Locale): Promise<{ request: PendingRequest; client: OAuthClient }> {
  const get = (name: string) => {
    const value = params.get(name)
    if (value !== undefined && value.length > MAX_PARAM) throw new UntrustedRequestError(`${name} is too long`)
    return value === '' ? undefined : value
  }
  const clientId = get('client_id')
  if (!clientId) throw new UntrustedRequestError('client_id is missing')
  const client = await core.clients.findClient(clientId)
  if (!client) throw new UntrustedRequestError('The client_id is not registered')
  const requested = get('redirect_uri')
  const redirectUri = requested ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined)
  if (!redirectUri) throw new UntrustedRequestError('redirect_uri is missing and the client has several registered')
  // Exact string comparison: no prefix, wildcard or normalisation (OAuth 2.0 Security BCP §4.1.3).
  if (!client.redirect_uris.includes(redirectUri)) throw new UntrustedRequestError('redirect_uri is not registered for this client')

  const state = get('state')
  const fail = (code: OAuthErrorCode, description: string): never => {
    throw new RedirectableError(code, description, redirectUri, state)
  }
  if (get('response_type') !== 'code') fail('unsupported_response_type', 'response_type must be code')
  if (client.client_type === 'confidential-asymmetric' && !client.redirect_uris.length) fail('unauthorized_client', 'This client is registered for backend services only')
  const codeChallenge = get('code_challenge')
  const method = get('code_challenge_method')
  if (!codeChallenge) fail('invalid_request', 'code_challenge is required (PKCE)')
  if (method !== 'S256') fail('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)')
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge!)) fail('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters)')
  const scope = get('scope')
  if (!scope) fail('invalid_scope', 'scope is required')

  const aud = (get('aud') ?? '').replace(/\/+$/, '')
  if (!aud) fail('invalid_request', 'aud is required: the FHIR base URL the app wants to use')
  let tenantId: string | undefined
  if (client.all_tenants && aud === `${core.issuer}/fhir`) tenantId = undefined
  else if (aud === audienceOf(core.issuer, client.tenant_id)) tenantId = client.tenant_id
  else if (client.all_tenants && aud.startsWith(`${core.issuer}/fhir/`) && (await core.tenants.find(aud.slice(`${core.issuer}/fhir/`.length)))) {
    tenantId = aud.slice(`${core.issuer}/fhir/`.length)
  } else fail('invalid_request', `aud ${aud} is not a FHIR base this client may use`)

  return {
    client,
    request: {
      clientId,
      redirectUri,
      ...(state !== undefined ? { state } : {}),
      scope: scope!,
      aud,
      ...(tenantId ? { tenantId } : {}),
      codeChallenge: codeChallenge!,
      ...(get('nonce') ? { nonce: get('nonce') } : {}),
      ...(get('launch') ? { launch: get('launch') } : {}),
      locale,
    },
  }
}

/** The app's redirect URI with the given parameters added (keeping its own query). */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  return url.toString()
}
