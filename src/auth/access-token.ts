import { randomUUID } from 'node:crypto'
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { unauthorized } from '../errors.js'
import type { AuthContext } from './access.js'
import { createAccessPolicy, type AccessRules } from './access-policy.js'
import type { RevokedTokens } from './revoked-tokens.js'
import { parseScopes } from './scopes.js'
import { TOKEN_ALG, type SigningKeys } from './signing-keys.js'
import type { VerifiedTokens } from './verified-tokens.js'

/**
 * Access tokens: ES256 JWTs (RFC 9068 claims plus `tenant`, `scope`, `client_id` and the SMART
 * context: `patient`, `encounter`, `fhirUser`, `role`). `aud` is the tenant's FHIR base, so a
 * token is only good for one tenant.
 */

export interface TokenSettings {
  keys: SigningKeys
  /** Our issuer URL, without a trailing slash. */
  issuer: string
  clock: () => Date
  verified: VerifiedTokens
  revoked: RevokedTokens
  rules: AccessRules
}

export interface TokenGrant {
  tenantId: string
  clientId: string
  scope: string
  ttlSeconds: number
  /** The signed-in account (user tokens); the client id is the subject otherwise. */
  accountId?: string
  fhirUser?: string
  patient?: string
  encounter?: string
  role?: string
}

export const audienceOf = (issuer: string, tenantId: string) => `${issuer}/fhir/${tenantId}`

export async function issueAccessToken(settings: TokenSettings, grant: TokenGrant): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const now = Math.floor(settings.clock().getTime() / 1000)
  const jti = randomUUID()
  const claims: JWTPayload = { tenant: grant.tenantId, client_id: grant.clientId, scope: grant.scope }
  if (grant.fhirUser) claims.fhirUser = grant.fhirUser
  if (grant.patient) claims.patient = grant.patient
  if (grant.encounter) claims.encounter = grant.encounter
  if (grant.role) claims.role = grant.role
  const key = settings.keys.current(TOKEN_ALG)
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: TOKEN_ALG, typ: 'at+jwt', kid: key.kid })
    .setIssuer(settings.issuer)
    .setSubject(grant.accountId ?? grant.clientId)
    .setAudience(audienceOf(settings.issuer, grant.tenantId))
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(now + grant.ttlSeconds)
    .sign(key.privateKey)
  return { token, jti, expiresAt: new Date((now + grant.ttlSeconds) * 1000) }
}

/**
 * Verifies `Authorization: Bearer <jwt>` for a request to `tenantId` using only what is held in
 * memory (keys, the revocation deny-list). Throws FhirError `unauthorized` for a missing,
 * malformed, expired, revoked, badly signed or foreign-issuer token, and for a valid token of
 * another tenant (its audience is not this FHIR base: RFC 6750 §3.1 invalid_token).
 */
export async function verifyAccessToken(settings: TokenSettings, authorization: string | undefined, tenantId: string): Promise<AuthContext> {
  const token = bearerToken(authorization)
  const cached = settings.verified.context(token, tenantId, settings.clock())
  if (cached) {
    // The deny-list changes after the context was built: it is checked on every request.
    if (cached.jti !== undefined && settings.revoked.isRevoked(tenantId, cached.jti)) throw unauthorized('Access token has been revoked')
    return cached
  }
  const payload = await verifiedPayload(settings, token)
  const context = contextOf(settings, payload, tenantId)
  settings.verified.rememberContext(token, context)
  return context
}

/** The payload of a token of ours if its signature, issuer and expiry hold; undefined otherwise. */
export async function inspectAccessToken(settings: TokenSettings, token: string): Promise<JWTPayload | undefined> {
  try {
    const payload = await verifiedPayload(settings, token)
    const tenant = payload.tenant
    if (typeof tenant !== 'string' || typeof payload.jti !== 'string' || settings.revoked.isRevoked(tenant, payload.jti)) return undefined
    return payload
  } catch {
    return undefined
  }
}

function contextOf(settings: TokenSettings, payload: JWTPayload, tenantId: string): AuthContext {
  const tenant = stringClaim(payload, 'tenant')
  if (tenant !== tenantId) throw unauthorized(`Access token was issued for another tenant, not ${tenantId}`)
  const audience = audienceOf(settings.issuer, tenantId)
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  if (!aud.includes(audience)) throw unauthorized(`Access token audience does not include ${audience}`)
  const jti = stringClaim(payload, 'jti')
  if (settings.revoked.isRevoked(tenant, jti)) throw unauthorized('Access token has been revoked')
  const scope = stringClaim(payload, 'scope')
  const scopes = parseScopes(scope)
  const clientId = stringClaim(payload, 'client_id')
  const patient = optionalClaim(payload, 'patient')
  const fhirUser = optionalClaim(payload, 'fhirUser')
  const sub = optionalClaim(payload, 'sub')
  const role = optionalClaim(payload, 'role')
  const encounter = optionalClaim(payload, 'encounter')
  return {
    tenantId,
    clientId,
    scope,
    scopes,
    jti,
    ...(role ? { role, userId: sub } : {}),
    ...(fhirUser ? { fhirUser } : {}),
    ...(patient ? { patient } : {}),
    ...(encounter ? { encounter } : {}),
    access: createAccessPolicy(settings.rules, scopes, patient),
  }
}

function bearerToken(authorization: string | undefined): string {
  if (!authorization?.trim()) throw unauthorized('Missing Authorization header: a Bearer access token is required')
  const match = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(authorization)
  if (!match?.[1]) throw unauthorized('Authorization header must be "Bearer <access token>"')
  return match[1]
}

async function verifiedPayload(settings: TokenSettings, token: string): Promise<JWTPayload> {
  const cached = settings.verified.get(token, settings.clock())
  if (cached) return cached
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const entry = header.kid === undefined ? undefined : settings.keys.publicKeys.get(header.kid)
        if (!entry || entry.alg !== TOKEN_ALG) throw new UnknownKeyError()
        return entry.key
      },
      { algorithms: [TOKEN_ALG], issuer: settings.issuer, currentDate: settings.clock(), requiredClaims: ['exp', 'jti'] },
    )
    settings.verified.remember(token, payload)
    return payload
  } catch (err) {
    throw unauthorized(describeFailure(err))
  }
}

class UnknownKeyError extends Error {}

function describeFailure(err: unknown): string {
  if (err instanceof UnknownKeyError) return 'Access token was signed by an unknown key'
  if (err instanceof errors.JWTExpired) return 'Access token has expired'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'Access token signature is invalid'
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return `Access token algorithm is not accepted (only ${TOKEN_ALG})`
  if (err instanceof errors.JWTClaimValidationFailed) {
    return err.claim === 'iss' ? 'Access token was not issued by this server' : `Access token claim "${err.claim}" is invalid: ${err.reason}`
  }
  if (err instanceof errors.JOSEError) return 'Access token is malformed'
  throw err
}

function stringClaim(payload: JWTPayload, name: string): string {
  const value = payload[name]
  if (typeof value !== 'string' || value.length === 0) throw unauthorized(`Access token lacks the "${name}" claim`)
  return value
}

function optionalClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name]
  return typeof value === 'string' && value.length > 0 ? value : undefined
}
