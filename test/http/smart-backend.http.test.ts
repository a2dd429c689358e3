import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { bearer, newClinic } from './smart-flow.js'

/** SMART Backend Services: client_credentials with private_key_jwt (backend-services.html). */
let t: TestApp
let jwksServer: Server
let jwksUrl: string
const served: { keys: JWK[] } = { keys: [] }

beforeAll(async () => {
  t = await buildTestApp()
  // The client's JWKS endpoint, on this machine.
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served)))
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`
})
afterAll(async () => {
  await new Promise((resolve) => jwksServer.close(resolve))
  await t.close()
})

const TOKEN_URL = 'http://fhir.test/oauth2/token'

async function keyPair(alg: 'RS384' | 'ES384' | 'RS256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomUUID()
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

async function assertion(key: { alg: string; kid: string; privateKey: CryptoKey }, clientId: string, options: { exp?: number; aud?: string; jti?: string } = {}) {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(options.aud ?? TOKEN_URL)
    .setJti(options.jti ?? randomUUID())
    .setExpirationTime(options.exp ?? now + 240)
    .sign(key.privateKey)
}

function requestToken(clientAssertion: string, scope = 'system/Patient.rs') {
  return t.app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    }).toString(),
  })
}

async function backendClient(options: { inline?: JWK[]; byUrl?: boolean }) {
  const clinic = await newClinic(t)
  const { client_id } = await t.services.auth.registerClient(clinic.tenant.tenantId, {
    name: 'Lab interface',
    type: 'confidential-asymmetric',
    scope: 'system/Patient.rs system/Observation.cruds',
    ...(options.byUrl ? { jwksUri: jwksUrl } : { jwks: { keys: options.inline ?? [] } }),
  })
  return { clinic, clientId: client_id }
}

describe('private_key_jwt', () => {
  for (const alg of ['RS384', 'ES384'] as const) {
    it(`issues a system token for an ${alg} assertion checked against an inline JWKS, and the token reads`, async () => {
      const key = await keyPair(alg)
      const { clinic, clientId } = await backendClient({ inline: [key.jwk] })
      const res = await requestToken(await assertion(key, clientId))
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.rs' })
      const read = await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/Patient/${clinic.patient.id}`, headers: bearer(res.json().access_token) })
      expect(read.statusCode).toBe(200)
    })
  }

  it('fetches the JWKS from the registered jwks_uri', async () => {
    const key = await keyPair('ES384')
    served.keys.push(key.jwk)
    const { clientId } = await backendClient({ byUrl: true })
    const res = await requestToken(await assertion(key, clientId))
    expect(res.statusCode, res.body).toBe(200)
  })

  it('refuses a replayed assertion (same jti)', async () => {
    const key = await keyPair('RS384')
    const { clientId } = await backendClient({ inline: [key.jwk] })
    const signed = await assertion(key, clientId)
    expect((await requestToken(signed)).statusCode).toBe(200)
    const replay = await requestToken(signed)
    expect(replay.statusCode).toBe(401)
    expect(replay.json()).toMatchObject({ error: 'invalid_client', error_description: expect.stringMatching(/replay/) })
  })

  it('refuses an assertion whose exp is more than five minutes ahead', async () => {
    const key = await keyPair('ES384')
    const { clientId } = await backendClient({ inline: [key.jwk] })
    const res = await requestToken(await assertion(key, clientId, { exp: Math.floor(Date.now() / 1000) + 3600 }))
    expect(res.statusCode).toBe(401)
    expect(res.json().error_description).toMatch(/300 seconds/)
  })

  it('refuses an expired assertion, one for another audience, and one signed with RS256', async () => {
    const key = await keyPair('ES384')
    const { clientId } = await backendClient({ inline: [key.jwk] })
    expect((await requestToken(await assertion(key, clientId, { exp: Math.floor(Date.now() / 1000) - 120 }))).statusCode).toBe(401)
    expect((await requestToken(await assertion(key, clientId, { aud: 'https://elsewhere.example/token' }))).statusCode).toBe(401)
    const rs256 = await keyPair('RS256')
    const { clientId: other } = await backendClient({ inline: [rs256.jwk] })
    const res = await requestToken(await assertion(rs256, other))
    expect(res.statusCode).toBe(401)
    expect(res.json().error_description).toMatch(/RS384 or ES384/)
  })

  it('refuses an assertion signed by a key the client did not register', async () => {
    const registered = await keyPair('ES384')
    const stranger = await keyPair('ES384')
    const { clientId } = await backendClient({ inline: [registered.jwk] })
    expect((await requestToken(await assertion({ ...stranger, kid: registered.kid }, clientId))).statusCode).toBe(401)
  })

  it('narrows the requested scope to the registered one', async () => {
    const key = await keyPair('RS384')
    const { clientId } = await backendClient({ inline: [key.jwk] })
    const res = await requestToken(await assertion(key, clientId), 'system/*.cruds')
    expect(res.statusCode).toBe(200)
    expect(res.json().scope.split(' ').sort()).toEqual(['system/Observation.cruds', 'system/Patient.rs'])
  })
})
