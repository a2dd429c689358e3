import { randomUUID } from 'node:crypto'
import { issueAccessToken, audienceOf } from './access-token.js'
import type { AuthCore } from './core.js'
import { issueIdToken } from './id-token.js'
import { generateOpaqueToken, hashOpaqueToken } from './opaque-tokens.js'
import { splitScope } from './scopes.js'

/** What a token response is issued for: the client, the granted scope and the launch context. */
export interface TokenIssue {
  tenantId: string
  clientId: string
  scope: string
  accountId?: string
  fhirUser?: string
  patient?: string
  encounter?: string
  role?: string
  nonce?: string
  authTime?: Date
  /** The refresh family to continue (refresh grant), with its fixed end for online_access. */
  family?: { id: string; onlineExpiresAt?: Date }
}

/** RFC 6749 §5.1 plus SMART's launch context fields. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  patient?: string
  encounter?: string
  id_token?: string
  refresh_token?: string
  need_patient_banner?: boolean
  /** The FHIR base the token is for (useful when the client picked no tenant: all-tenant apps). */
  fhir_base: string
}

/**
 * Issues the access token and, as the scope asks, a refresh token (offline_access or
 * online_access, user grants only) and an id_token (openid, user grants only).
 */
export async function issueTokens(core: AuthCore, issue: TokenIssue): Promise<TokenResponse> {
  const scopes = new Set(splitScope(issue.scope))
  const ttl = core.lifetimes.accessToken
  const access = await issueAccessToken(core.settings, { ...issue, ttlSeconds: ttl })
  const response: TokenResponse = {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: ttl,
    scope: issue.scope,
    fhir_base: audienceOf(core.issuer, issue.tenantId),
  }
  if (issue.patient) {
    response.patient = issue.patient
    response.need_patient_banner = issue.role !== 'patient'
  }
  if (issue.encounter) response.encounter = issue.encounter
  if (issue.accountId && scopes.has('openid')) {
    response.id_token = await issueIdToken(core, {
      tenantId: issue.tenantId,
      clientId: issue.clientId,
      accountId: issue.accountId,
      fhirUser: issue.fhirUser,
      nonce: issue.nonce,
      authTime: issue.authTime ?? core.clock(),
      withFhirUser: scopes.has('fhirUser'),
    })
  }
  const offline = scopes.has('offline_access')
  if (issue.accountId && (offline || scopes.has('online_access'))) {
    const now = core.clock()
    const refresh = generateOpaqueToken()
    const expiresAt = offline
      ? new Date(now.getTime() + core.lifetimes.offlineRefresh * 1000)
      : (issue.family?.onlineExpiresAt ?? new Date(now.getTime() + core.lifetimes.onlineRefresh * 1000))
    await core.grants.insertRefreshToken({
      tenant_id: issue.tenantId,
      token_hash: hashOpaqueToken(refresh),
      family_id: issue.family?.id ?? randomUUID(),
      client_id: issue.clientId,
      account_id: issue.accountId,
      scope: issue.scope,
      patient: issue.patient ?? null,
      encounter: issue.encounter ?? null,
      fhir_user: issue.fhirUser ?? null,
      role: issue.role ?? null,
      offline,
      expires_at: expiresAt,
    })
    response.refresh_token = refresh
  }
  return response
}
