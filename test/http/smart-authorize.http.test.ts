import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { authorizeUrl, bearer, Browser, codeParams, exchangeCode, launch, newClinic, newPublicApp, newUser, pkce, REDIRECT, redirectQuery, signInAndAllow } from './smart-flow.js'

/** Authorization code with PKCE (SMART App Launch app-launch.html, RFC 6749 §4.1, RFC 7636). */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

describe('authorization code with PKCE', () => {
  it('issues a patient-context token to a public client after sign-in and consent, and the token reads that patient', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs openid fhirUser', login: user.email })
    expect(token).toMatchObject({ token_type: 'Bearer', patient: clinic.patient.id, scope: 'launch/patient patient/*.rs openid fhirUser' })
    const read = await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/Patient/${clinic.patient.id}`, headers: bearer(token.access_token) })
    expect(read.statusCode, read.body).toBe(200)
  })
})

describe('authorization request checks', () => {
  it('refuses code_challenge_method=plain by redirecting invalid_request with the state', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const res = await new Browser(t).get(authorizeUrl(codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().verifier, { code_challenge_method: 'plain' })))
    const q = redirectQuery(res)
    expect(q.get('error')).toBe('invalid_request')
    expect(q.get('error_description')).toMatch(/S256/)
    expect(q.get('state')).toBe('xyz')
  })

  it('refuses a request without code_challenge', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const params = codeParams(clientId, clinic.aud, 'patient/*.rs', 'x')
    const res = await new Browser(t).get(authorizeUrl({ ...params, code_challenge: undefined }))
    expect(redirectQuery(res).get('error')).toBe('invalid_request')
  })

  it("refuses an aud that is not the client's tenant FHIR base", async () => {
    const [clinic, other] = await Promise.all([newClinic(t), newClinic(t)])
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const res = await new Browser(t).get(authorizeUrl(codeParams(clientId, other.aud, 'patient/*.rs', pkce().challenge)))
    const q = redirectQuery(res)
    expect(q.get('error')).toBe('invalid_request')
    expect(q.get('error_description')).toMatch(/aud/)
  })

  it('shows an error page, never a redirect, for a redirect_uri that is not registered exactly', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    for (const redirect of [`${REDIRECT}/x`, `${REDIRECT}?a=1`, 'https://evil.example/callback']) {
      const res = await new Browser(t).get(authorizeUrl({ ...codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().challenge), redirect_uri: redirect }))
      expect(res.statusCode).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.headers['content-type']).toMatch(/^text\/html/)
    }
  })

  it('shows an error page for an unknown client_id', async () => {
    const res = await new Browser(t).get(authorizeUrl(codeParams('no-such-client', 'http://fhir.test/fhir/x', 'patient/*.rs', pkce().challenge)))
    expect(res.statusCode).toBe(400)
    expect(res.body).toMatch(/not registered/)
  })

  it('accepts the request by POST as well (authorize-post)', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const browser = new Browser(t)
    const res = await browser.request({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().challenge)).toString(),
    })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('action="/oauth2/signin"')
  })
})

describe('token endpoint: authorization_code', () => {
  async function codeFor(scope = 'launch/patient patient/*.rs offline_access') {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    const { verifier, challenge } = pkce()
    const done = await signInAndAllow(browser, await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, scope, challenge))), user.email)
    return { clinic, clientId, verifier, code: redirectQuery(done).get('code') ?? '' }
  }

  it('refuses a code_verifier that does not match the challenge', async () => {
    const { clientId, code } = await codeFor()
    const res = await exchangeCode(t, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce().verifier, client_id: clientId })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('invalid_grant')
  })

  it('refuses a code without code_verifier', async () => {
    const { clientId, code } = await codeFor()
    const res = await exchangeCode(t, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId })
    expect(res.statusCode).toBe(400)
  })

  it('refuses a second redemption of a code and revokes the refresh token the first one gave', async () => {
    const { clientId, code, verifier } = await codeFor()
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId }
    const first = await exchangeCode(t, form)
    expect(first.statusCode).toBe(200)
    const second = await exchangeCode(t, form)
    expect(second.json().error).toBe('invalid_grant')
    const refresh = await exchangeCode(t, { grant_type: 'refresh_token', refresh_token: first.json().refresh_token, client_id: clientId })
    expect(refresh.json().error).toBe('invalid_grant')
  })

  it('refuses the code for another client and a different redirect_uri', async () => {
    const { clinic, clientId, code, verifier } = await codeFor()
    const otherClient = await newPublicApp(t, clinic.tenant.tenantId)
    expect((await exchangeCode(t, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: otherClient })).json().error).toBe('invalid_grant')
    const again = await codeFor()
    expect((await exchangeCode(t, { grant_type: 'authorization_code', code: again.code, redirect_uri: `${REDIRECT}/other`, code_verifier: again.verifier, client_id: again.clientId })).json().error).toBe(
      'invalid_grant',
    )
    expect(clientId).not.toBe(otherClient)
  })

  it('requires a confidential client to authenticate with its secret', async () => {
    const clinic = await newClinic(t)
    const { client_id, client_secret } = await t.services.auth.registerClient(clinic.tenant.tenantId, {
      name: 'Web app',
      type: 'confidential-symmetric',
      scope: 'launch/patient patient/*.rs',
      redirectUris: [REDIRECT],
    })
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    const { verifier, challenge } = pkce()
    const done = await signInAndAllow(browser, await browser.get(authorizeUrl(codeParams(client_id, clinic.aud, 'launch/patient patient/*.rs', challenge))), user.email)
    const code = redirectQuery(done).get('code') ?? ''
    const bare = await exchangeCode(t, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id })
    expect(bare.statusCode).toBe(401)
    expect(bare.json().error).toBe('invalid_client')
    const done2 = await signInAndAllow(browser, await browser.get(authorizeUrl(codeParams(client_id, clinic.aud, 'launch/patient patient/*.rs', challenge))), user.email)
    const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`
    const ok = await exchangeCode(t, { grant_type: 'authorization_code', code: redirectQuery(done2).get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier }, basic)
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().patient).toBe(clinic.patient.id)
  })
})

describe('scope granted', () => {
  it('is never more than requested ∩ registered for the client ∩ allowed for the role', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId, 'launch/patient patient/*.rs patient/Observation.cru user/*.cruds')
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.cruds user/*.cruds system/*.cruds offline_access', login: user.email })
    const granted: string[] = token.scope.split(' ')
    expect(granted).not.toContain('user/*.cruds')
    expect(granted).not.toContain('system/*.cruds')
    expect(granted).not.toContain('offline_access')
    expect(granted).not.toContain('patient/*.cruds')
    expect(granted).toContain('launch/patient')
    expect(token.refresh_token).toBeUndefined()
  })

  it('denies with access_denied when the user clicks Deny', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    const consent = await browser.post('/oauth2/signin', await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().challenge))), {
      login: user.email,
      password: 'correct horse battery',
    })
    expect(consent.body).toContain('action="/oauth2/consent"')
    const q = redirectQuery(await browser.post('/oauth2/consent', consent, { decision: 'deny' }))
    expect(q.get('error')).toBe('access_denied')
    expect(q.get('code')).toBeNull()
  })

  it('refuses a user of another clinic with access_denied', async () => {
    const [clinic, other] = await Promise.all([newClinic(t), newClinic(t)])
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const stranger = await newUser(t, other.tenant.tenantId, 'physician', null)
    const browser = new Browser(t)
    const res = await browser.post('/oauth2/signin', await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'user/*.rs', pkce().challenge))), {
      login: stranger.email,
      password: 'correct horse battery',
    })
    expect(redirectQuery(res).get('error')).toBe('access_denied')
  })
})
