import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose'
import type { GrantStore, OAuthClient, OAuthStore } from '../resources/index.js'
import { OAuthError } from './oauth-http.js'

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2) as SMART Backend Services profile it
 * (https://hl7.org/fhir/smart-app-launch/STU2/backend-services.html#authenticating-to-the-token-endpoint):
 * RS384 or ES384, iss = sub = client_id, aud = our token endpoint, `exp` at most five minutes
 * ahead, and a `jti` never seen before for this client.
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
export const ASSERTION_ALGS = ['RS384', 'ES384'] as const
export const MAX_ASSERTION_LIFETIME_SECONDS = 300
// Clock skew tolerated on exp/iat/nbf between the client and us.
const CLOCK_TOLERANCE_SECONDS = 30

export interface ClientAssertionDeps {
  clients: OAuthStore
  grants: GrantStore
  tokenUrl: string
  clock: () => Date
}

export function createClientAssertionVerifier(deps: ClientAssertionDeps) {
  // Remote key sets keep jose's own cache (refetched on an unknown kid, at most every 30 s).
  const remote = new Map<string, JWTVerifyGetKey>()
  const keySetOf = (client: OAuthClient): JWTVerifyGetKey => {
    if (client.jwks) return createLocalJWKSet(JSON.parse(client.jwks) as { keys: JWK[] })
    if (!client.jwks_uri) throw new OAuthError('invalid_client', `Client ${client.client_id} has no registered JWKS`)
    let keys = remote.get(client.jwks_uri)
    if (!keys) {
      keys = createRemoteJWKSet(new URL(client.jwks_uri), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      remote.set(client.jwks_uri, keys)
    }
    return keys
  }

  return async function verifyClientAssertion(assertion: string, claimedClientId: string | undefined): Promise<OAuthClient> {
    let clientId: string | undefined
    try {
      const claims = decodeJwt(assertion)
      clientId = typeof claims.sub === 'string' ? claims.sub : undefined
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT')
    }
    if (!clientId) throw new OAuthError('invalid_client', 'client_assertion has no sub (the client_id)')
    if (claimedClientId !== undefined && claimedClientId !== clientId) throw new OAuthError('invalid_client', 'client_id does not match the client_assertion')
    const client = await deps.clients.findClient(clientId)
    if (!client || client.client_type !== 'confidential-asymmetric') {
      throw new OAuthError('invalid_client', 'Client authentication failed: unknown client or not registered for private_key_jwt')
    }
    const now = deps.clock()
    let payload
    try {
      ;({ payload } = await jwtVerify(assertion, keySetOf(client), {
        algorithms: [...ASSERTION_ALGS],
        issuer: clientId,
        subject: clientId,
        audience: deps.tokenUrl,
        currentDate: now,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'jti'],
      }))
    } catch (err) {
      throw new OAuthError('invalid_client', `client_assertion refused: ${describe(err)}`)
    }
    const exp = payload.exp as number
    if (exp > Math.floor(now.getTime() / 1000) + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      throw new OAuthError('invalid_client', `client_assertion exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds in the future`)
    }
    const isFirstUse = await deps.grants.recordJti(
      { tenant_id: client.tenant_id, client_id: clientId, jti: String(payload.jti), expires_at: new Date(exp * 1000) },
      now,
    )
    if (!isFirstUse) throw new OAuthError('invalid_client', 'client_assertion jti was already used (replay)')
    return client
  }
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'it has expired'
  if (err instanceof errors.JOSEAlgNotAllowed) return `alg must be ${ASSERTION_ALGS.join(' or ')}`
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" is invalid (${err.reason})`
  if (err instanceof errors.JWKSNoMatchingKey) return 'no registered key matches its kid and alg'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the signature is invalid'
  if (err instanceof errors.JWKSTimeout) return 'the client JWKS could not be fetched in time'
  if (err instanceof errors.JOSEError) return err.message
  if (err instanceof Error) return `the client JWKS could not be used (${err.message})`
  return 'unknown error'
}
