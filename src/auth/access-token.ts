import { randomUUID } from 'node:crypto'
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { forbidden, unauthorized } from '../errors.js'
import type { AuthContext } from './access.js'
import { parseScopes } from './scopes.js'
import { TOKEN_ALG, type SigningKeys } from './signing-keys.js'
import type { VerifiedTokens } from './verified-tokens.js'

/**
 * Access tokens: ES256 JWTs (RFC 9068 claims plus `tenant`, `scope`, `client_id`).
 * `aud` is the tenant's FHIR base, so a token is only good for one tenant.
 */

export interface TokenSettings {
  keys: SigningKeys
  /** Our issuer URL, without a trailing slash. */
  issuer: string
  clock: () => Date
  verified: VerifiedTokens
}

export interface TokenGrant {
  tenantId: string
  clientId: string
  scope: string
  ttlSeconds: number
}

export const audienceOf = (issuer: string, tenantId: string) => `${issuer}/fhir/${tenantId}`

export function issueAccessToken(settings: TokenSettings, grant: TokenGrant): Promise<string> {
  const now = Math.floor(settings.clock().getTime() / 1000)
  return new SignJWT({ tenant: grant.tenantId, client_id: grant.clientId, scope: grant.scope })
    .setProtectedHeader({ alg: TOKEN_ALG, typ: 'at+jwt', kid: settings.keys.current.kid })
    .setIssuer(settings.issuer)
    .setSubject(grant.clientId)
    .setAudience(audienceOf(settings.issuer, grant.tenantId))
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + grant.ttlSeconds)
    .sign(settings.keys.current.privateKey)
}

/**
 * Verifies `Authorization: Bearer <jwt>` for a request to `tenantId` using only the keys loaded
 * at startup (no I/O). Throws FhirError `unauthorized` for a missing, malformed, expired,
 * badly signed or foreign-issuer token, and `forbidden` for a valid token of another tenant.
 */
export async function verifyAccessToken(settings: TokenSettings, authorization: string | undefined, tenantId: string): Promise<AuthContext> {
  const token = bearerToken(authorization)
  const payload = await verifiedPayload(settings, token)
  const tenant = stringClaim(payload, 'tenant')
  if (tenant !== tenantId) throw forbidden(`Access token was issued for tenant ${tenant}, not ${tenantId}`)
  const audience = audienceOf(settings.issuer, tenantId)
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  if (!aud.includes(audience)) throw unauthorized(`Access token audience does not include ${audience}`)
  const scope = stringClaim(payload, 'scope')
  return { tenantId, clientId: stringClaim(payload, 'client_id'), scope, scopes: parseScopes(scope) }
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
        const key = header.kid === undefined ? undefined : settings.keys.publicKeys.get(header.kid)
        if (!key) throw new UnknownKeyError()
        return key
      },
      { algorithms: [TOKEN_ALG], issuer: settings.issuer, currentDate: settings.clock(), requiredClaims: ['exp'] },
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
