import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'

/** SMART configuration, OpenID configuration, JWKS and the CapabilityStatement's oauth-uris. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const CAPABILITIES = [
  'launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
  'sso-openid-connect', 'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'permission-offline',
  'permission-online', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2', 'authorize-post',
]

describe('/.well-known/smart-configuration', () => {
  it('has every REQUIRED and RECOMMENDED field and the capabilities of issue 5, without a token', async () => {
    const { tenantId } = await t.newTenant()
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenantId}/.well-known/smart-configuration` })
    expect(res.statusCode).toBe(200)
    const config = res.json()
    expect(config).toMatchObject({
      issuer: `http://fhir.test/fhir/${tenantId}`,
      jwks_uri: 'http://fhir.test/oauth2/jwks',
      authorization_endpoint: 'http://fhir.test/oauth2/authorize',
      token_endpoint: 'http://fhir.test/oauth2/token',
      introspection_endpoint: 'http://fhir.test/oauth2/introspect',
      revocation_endpoint: 'http://fhir.test/oauth2/revoke',
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    })
    for (const field of ['grant_types_supported', 'token_endpoint_auth_methods_supported', 'scopes_supported', 'management_endpoint', 'registration_endpoint']) {
      expect(config[field], field).toBeDefined()
    }
    expect(config.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token']))
    expect(config.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_basic', 'none']))
    expect(config.capabilities).toEqual(expect.arrayContaining(CAPABILITIES))
    expect(config.code_challenge_methods_supported).not.toContain('plain')
  })

  it('is also served at the FHIR root for all-clinic apps', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/fhir/.well-known/smart-configuration' })
    expect(res.statusCode).toBe(200)
    expect(res.json().issuer).toBe('http://fhir.test/fhir')
  })
})

describe('/.well-known/openid-configuration and JWKS', () => {
  it('names the tenant base as issuer, RS256 id_tokens and the shared JWKS', async () => {
    const { tenantId } = await t.newTenant()
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenantId}/.well-known/openid-configuration` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({
      issuer: `http://fhir.test/fhir/${tenantId}`,
      jwks_uri: 'http://fhir.test/oauth2/jwks',
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
    })
  })

  // One rotation per run: other test processes sharing the database reload keys every minute,
  // and a second rotation would retire the key their tokens were signed with.
  it('lists public keys only; after a rotation the current and previous key of each algorithm; old tokens still verify', async () => {
    const tenant = await t.newTenant()
    const before = (await t.app.inject({ method: 'GET', url: '/oauth2/jwks' })).json().keys as Record<string, unknown>[]
    for (const key of before) {
      expect(key.d).toBeUndefined()
      expect(key.p).toBeUndefined()
    }
    const fresh = await t.services.auth.rotateSigningKeys()
    const after = (await t.app.inject({ method: 'GET', url: '/oauth2/jwks' })).json().keys as { kid: string; alg: string }[]
    expect(after.map((k) => k.kid)).toEqual(expect.arrayContaining(fresh))
    expect(after.filter((k) => k.alg === 'ES256')).toHaveLength(2)
    expect(after.filter((k) => k.alg === 'RS256')).toHaveLength(2)
    expect((await tenant.request('GET', '/Patient')).statusCode).toBe(200)
    const second = await t.newTenant()
    const kid = JSON.parse(Buffer.from(second.token.split('.')[0]!, 'base64url').toString()).kid
    expect(after.find((k) => k.alg === 'ES256')?.kid).toBe(kid)
  })
})

describe('CapabilityStatement', () => {
  it('carries the SMART oauth-uris extension and the SMART-on-FHIR security service', async () => {
    const { tenantId } = await t.newTenant()
    const cs = (await t.app.inject({ method: 'GET', url: `/fhir/${tenantId}/metadata` })).json()
    const security = cs.rest[0].security
    expect(security.service[0].coding.map((c: { code: string }) => c.code)).toContain('SMART-on-FHIR')
    const uris = security.extension.find((e: { url: string }) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris')
    const byName = Object.fromEntries(uris.extension.map((e: { url: string; valueUri: string }) => [e.url, e.valueUri]))
    expect(byName).toMatchObject({
      authorize: 'http://fhir.test/oauth2/authorize',
      token: 'http://fhir.test/oauth2/token',
      introspect: 'http://fhir.test/oauth2/introspect',
      revoke: 'http://fhir.test/oauth2/revoke',
    })
  })
})
