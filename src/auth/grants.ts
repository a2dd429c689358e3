import type { OAuthClient } from '../resources/index.js'
import type { AuthenticatedClient } from './client-auth.js'
import type { AuthCore } from './core.js'
import { OAuthError, required, single, type FormBody } from './oauth-http.js'
import { hashOpaqueToken, isPkceVerifierValid } from './opaque-tokens.js'
import { narrowScope, splitScope } from './scopes.js'
import { issueTokens, type TokenResponse } from './token-issuer.js'

/** The three grants of the token endpoint. Each throws OAuthError on refusal. */

/**
 * authorization_code with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.6). A code works once: a second
 * redemption is refused and revokes the refresh tokens the first one produced (§4.1.2).
 */
export async function authorizationCodeGrant(core: AuthCore, { client }: AuthenticatedClient, form: FormBody): Promise<TokenResponse> {
  const code = required(form, 'code')
  const redirectUri = single(form, 'redirect_uri')
  const verifier = single(form, 'code_verifier')
  const codeHash = hashOpaqueToken(code)
  const now = core.clock()
  const redemption = await core.grants.redeemCode(codeHash, now)
  if (redemption.status === 'unknown') throw new OAuthError('invalid_grant', 'The authorization code is not valid')
  const row = redemption.code
  if (redemption.status === 'used') {
    await core.grants.revokeRefreshFamily(row.tenant_id, codeHash, now)
    throw new OAuthError('invalid_grant', 'The authorization code was already used; tokens issued from it are revoked')
  }
  if (row.client_id !== client.client_id) throw new OAuthError('invalid_grant', 'The authorization code was issued to another client')
  if (row.expires_at <= now) throw new OAuthError('invalid_grant', 'The authorization code has expired')
  if (redirectUri !== row.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request')
  if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)')
  if (!isPkceVerifierValid(verifier, row.code_challenge)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge')
  assertClientServesTenant(client, row.tenant_id)
  return issueTokens(core, {
    tenantId: row.tenant_id,
    clientId: client.client_id,
    scope: row.scope,
    accountId: row.account_id,
    fhirUser: row.fhir_user ?? undefined,
    patient: row.patient ?? undefined,
    encounter: row.encounter ?? undefined,
    role: row.role ?? undefined,
    nonce: row.nonce ?? undefined,
    authTime: row.auth_time,
    family: { id: codeHash },
  })
}

/**
 * refresh_token (RFC 6749 §6), rotated on every use; a rotated token presented again revokes
 * its whole family (OAuth 2.0 Security BCP §4.14.2). `scope` may narrow, never widen.
 */
export async function refreshTokenGrant(core: AuthCore, { client }: AuthenticatedClient, form: FormBody): Promise<TokenResponse> {
  const presented = required(form, 'refresh_token')
  const now = core.clock()
  const rotation = await core.grants.rotateRefreshToken(hashOpaqueToken(presented), now)
  if (rotation.status === 'reused') {
    await core.grants.revokeRefreshFamily(rotation.token.tenant_id, rotation.token.family_id, now)
    throw new OAuthError('invalid_grant', 'The refresh token was already used; every token of its family is revoked')
  }
  if (rotation.status === 'invalid') throw new OAuthError('invalid_grant', 'The refresh token is not valid, expired or revoked')
  const row = rotation.token
  if (row.client_id !== client.client_id) {
    // Someone else holds this client's token: treat it as stolen.
    await core.grants.revokeRefreshFamily(row.tenant_id, row.family_id, now)
    throw new OAuthError('invalid_grant', 'The refresh token was issued to another client')
  }
  assertClientServesTenant(client, row.tenant_id)
  let scope = row.scope
  const requested = single(form, 'scope')
  if (requested !== undefined) {
    const granted = new Set(splitScope(row.scope))
    const wanted = splitScope(requested)
    if (wanted.some((s) => !granted.has(s))) throw new OAuthError('invalid_scope', 'A refresh may only narrow the scope originally granted')
    scope = wanted.join(' ')
  }
  return issueTokens(core, {
    tenantId: row.tenant_id,
    clientId: client.client_id,
    scope,
    accountId: row.account_id ?? undefined,
    fhirUser: row.fhir_user ?? undefined,
    patient: row.patient ?? undefined,
    encounter: row.encounter ?? undefined,
    role: row.role ?? undefined,
    family: { id: row.family_id, onlineExpiresAt: row.offline ? undefined : row.expires_at },
  })
}

/**
 * client_credentials (RFC 6749 §4.4; SMART Backend Services). Only confidential clients; the
 * requested scope is narrowed to the registered one (§3.3), and never reaches user or patient
 * context.
 */
export async function clientCredentialsGrant(core: AuthCore, { client }: AuthenticatedClient, form: FormBody): Promise<TokenResponse> {
  if (client.client_type === 'public') throw new OAuthError('unauthorized_client', 'A public client cannot use client_credentials')
  const requested = single(form, 'scope')
  const scope = requested === undefined ? client.scope : narrowScope(requested, client.scope)
  if (!scope) throw new OAuthError('invalid_scope', `None of the requested scopes is registered for client ${client.client_id}`)
  return issueTokens(core, { tenantId: client.tenant_id, clientId: client.client_id, scope })
}

function assertClientServesTenant(client: OAuthClient, tenantId: string): void {
  if (client.tenant_id !== tenantId && !client.all_tenants) throw new OAuthError('invalid_grant', 'The grant belongs to another clinic')
}
