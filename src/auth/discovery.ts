import { ASSERTION_ALGS } from './client-assertion.js'
import { ID_TOKEN_ALG } from './signing-keys.js'

/** The OAuth endpoints of this server, for discovery documents and the CapabilityStatement. */
export interface OAuthEndpoints {
  authorize: string
  token: string
  introspect: string
  revoke: string
  jwks: string
  /** Where an EHR registers a launch context (Segimed-specific). */
  launch: string
  /** Where a tenant admin manages clients and memberships. */
  management: string
}

export const endpointsOf = (issuer: string, fhirBase: string): OAuthEndpoints => ({
  authorize: `${issuer}/oauth2/authorize`,
  token: `${issuer}/oauth2/token`,
  introspect: `${issuer}/oauth2/introspect`,
  revoke: `${issuer}/oauth2/revoke`,
  jwks: `${issuer}/oauth2/jwks`,
  launch: `${fhirBase.replace(`${issuer}/fhir/`, `${issuer}/admin/`)}/launch`,
  management: `${fhirBase.replace(`${issuer}/fhir/`, `${issuer}/admin/`)}`,
})

export const SCOPES_SUPPORTED = [
  'openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access',
  'patient/*.cruds', 'patient/*.rs', 'patient/*.read', 'patient/*.write', 'patient/*.*',
  'user/*.cruds', 'user/*.rs', 'user/*.read', 'user/*.write', 'user/*.*',
  'system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write', 'system/*.*',
]

export const CAPABILITIES = [
  'launch-ehr', 'launch-standalone', 'authorize-post',
  'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'context-banner', 'context-style',
  'permission-offline', 'permission-online', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2',
]

/**
 * SMART configuration (https://hl7.org/fhir/smart-app-launch/STU2/conformance.html#metadata):
 * every REQUIRED field (issuer and jwks_uri since sso-openid-connect is offered,
 * authorization_endpoint, token_endpoint, grant_types_supported, capabilities,
 * code_challenge_methods_supported) and every RECOMMENDED one.
 */
export function smartConfiguration(issuer: string, fhirBase: string) {
  const e = endpointsOf(issuer, fhirBase)
  return {
    issuer: fhirBase,
    jwks_uri: e.jwks,
    authorization_endpoint: e.authorize,
    token_endpoint: e.token,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    registration_endpoint: `${e.management}/clients`,
    scopes_supported: SCOPES_SUPPORTED,
    response_types_supported: ['code'],
    management_endpoint: e.management,
    introspection_endpoint: e.introspect,
    revocation_endpoint: e.revoke,
    capabilities: CAPABILITIES,
    code_challenge_methods_supported: ['S256'],
  }
}

/** OpenID Connect Discovery 1.0 §3, at `[FHIR base]/.well-known/openid-configuration`. */
export function openidConfiguration(issuer: string, fhirBase: string) {
  const e = endpointsOf(issuer, fhirBase)
  return {
    issuer: fhirBase,
    authorization_endpoint: e.authorize,
    token_endpoint: e.token,
    jwks_uri: e.jwks,
    introspection_endpoint: e.introspect,
    revocation_endpoint: e.revoke,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ID_TOKEN_ALG],
    scopes_supported: ['openid', 'fhirUser', 'profile', 'offline_access', 'online_access'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'fhirUser'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    code_challenge_methods_supported: ['S256'],
    request_parameter_supported: false,
    ui_locales_supported: ['es', 'en'],
  }
}
