import type { OAuthClient } from '../resources/index.js'
import { inspectAccessToken } from './access-token.js'
import type { AuthCore } from './core.js'
import { hashOpaqueToken } from './opaque-tokens.js'

/**
 * Token introspection (RFC 7662 §2.2) for the access tokens and refresh tokens of the calling
 * client's tenant. Anything else — unknown, expired, revoked, another tenant's — is just
 * `{"active": false}`, so introspection tells nothing about other tenants.
 */
export async function introspect(core: AuthCore, caller: OAuthClient, token: string): Promise<Record<string, unknown>> {
  const payload = await inspectAccessToken(core.settings, token)
  if (payload) {
    if (payload.tenant !== caller.tenant_id) return { active: false }
    return {
      active: true,
      token_type: 'Bearer',
      scope: payload.scope,
      client_id: payload.client_id,
      sub: payload.sub,
      exp: payload.exp,
      iat: payload.iat,
      iss: payload.iss,
      aud: payload.aud,
      ...(payload.patient ? { patient: payload.patient } : {}),
      ...(payload.encounter ? { encounter: payload.encounter } : {}),
      ...(payload.fhirUser ? { fhirUser: `${String(payload.aud)}/${String(payload.fhirUser)}` } : {}),
    }
  }
  const refresh = await core.grants.findRefreshToken(hashOpaqueToken(token))
  const now = core.clock()
  if (!refresh || refresh.tenant_id !== caller.tenant_id || refresh.rotated_at || refresh.revoked_at || refresh.expires_at <= now) {
    return { active: false }
  }
  return {
    active: true,
    token_type: 'refresh_token',
    scope: refresh.scope,
    client_id: refresh.client_id,
    ...(refresh.account_id ? { sub: refresh.account_id } : {}),
    exp: Math.floor(refresh.expires_at.getTime() / 1000),
    ...(refresh.patient ? { patient: refresh.patient } : {}),
  }
}

/**
 * Revocation (RFC 7009 §2.1) by the client the token was issued to: a refresh token takes its
 * whole family with it; an access token goes on the deny-list and out of the verified cache, so
 * it stops working on the next request. Returns what was revoked, if anything.
 */
export async function revoke(core: AuthCore, caller: OAuthClient, token: string): Promise<{ tenantId: string; kind: string } | undefined> {
  const now = core.clock()
  const refresh = await core.grants.findRefreshToken(hashOpaqueToken(token))
  if (refresh) {
    if (refresh.client_id !== caller.client_id) return undefined
    await core.grants.revokeRefreshFamily(refresh.tenant_id, refresh.family_id, now)
    return { tenantId: refresh.tenant_id, kind: 'refresh token family' }
  }
  const payload = await inspectAccessToken(core.settings, token)
  if (!payload || payload.client_id !== caller.client_id || typeof payload.tenant !== 'string' || typeof payload.jti !== 'string') return undefined
  await core.settings.revoked.revoke(payload.tenant, payload.jti, new Date((payload.exp ?? 0) * 1000))
  core.settings.verified.forget(token)
  return { tenantId: payload.tenant, kind: 'access token' }
}
