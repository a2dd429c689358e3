import { SignJWT } from 'jose'
import { audienceOf } from './access-token.js'
import type { AuthCore } from './core.js'
import { ID_TOKEN_ALG } from './signing-keys.js'

/**
 * The OpenID Connect id_token (https://openid.net/specs/openid-connect-core-1_0.html#IDToken)
 * that SMART's `openid fhirUser` asks for: RS256, issued by the tenant's FHIR base (where its
 * openid-configuration lives), `fhirUser` the user's FHIR identity as an absolute URL.
 */
export function issueIdToken(
  core: AuthCore,
  input: { tenantId: string; clientId: string; accountId: string; fhirUser?: string; nonce?: string; authTime: Date; withFhirUser: boolean },
): Promise<string> {
  const issuer = audienceOf(core.issuer, input.tenantId)
  const now = Math.floor(core.clock().getTime() / 1000)
  const claims: Record<string, unknown> = { auth_time: Math.floor(input.authTime.getTime() / 1000) }
  if (input.nonce) claims.nonce = input.nonce
  if (input.withFhirUser && input.fhirUser) claims.fhirUser = `${issuer}/${input.fhirUser}`
  const key = core.settings.keys.current(ID_TOKEN_ALG)
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ID_TOKEN_ALG, typ: 'JWT', kid: key.kid })
    .setIssuer(issuer)
    .setSubject(input.accountId)
    .setAudience(input.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + core.lifetimes.accessToken)
    .sign(key.privateKey)
}
