import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { authorizeUrl, Browser, codeParams, newClinic, newPublicApp, newUser, PASSWORD, pkce } from './smart-flow.js'

/** The sign-in pages: Spanish and English, phone-sized, no framing, escaped, CSRF-bound. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function start(extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const clinic = await newClinic(t)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const browser = new Browser(t)
  const page = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs offline_access', pkce().challenge, extra)), headers)
  return { clinic, clientId, browser, page }
}

describe('sign-in pages', () => {
  it('speak Spanish for Accept-Language es and English for en', async () => {
    const es = (await start({}, { 'accept-language': 'es-AR,es;q=0.9,en;q=0.5' })).page
    expect(es.body).toContain('<html lang="es">')
    expect(es.body).toContain('Iniciar sesión')
    const en = (await start({}, { 'accept-language': 'en-US,en;q=0.9' })).page
    expect(en.body).toContain('<html lang="en">')
    expect(en.body).toContain('Sign in')
  })

  it('let ui_locales win over Accept-Language', async () => {
    const { page } = await start({ ui_locales: 'es' }, { 'accept-language': 'en' })
    expect(page.body).toContain('Contraseña')
  })

  it('forbid framing and inline script, and are usable on a phone', async () => {
    const { page } = await start()
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')
    expect(page.body).not.toContain('<script')
  })

  it('escape what the request carries into the page', async () => {
    const { browser, page, clinic } = await start({ state: '"><script>alert(1)</script>' })
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const wrong = await browser.post('/oauth2/signin', page, { login: '"><img src=x onerror=alert(1)>', password: 'x' })
    expect(wrong.body).not.toContain('<img src=x')
    expect(wrong.body).toContain('&quot;&gt;&lt;img')
    expect(user.email).toBeTruthy()
  })

  it('list the requested scopes in plain words on the consent page', async () => {
    const { browser, page, clinic } = await start({ ui_locales: 'es' })
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const consent = await browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    expect(consent.body).toContain('Ver y buscar todos los datos del paciente')
    expect(consent.body).toContain('Mantener el acceso después de cerrar la aplicación')
    expect(consent.body).toContain('García')
  })

  it('refuse a consent posted with a tampered request', async () => {
    const { browser, page, clinic } = await start()
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const consent = await browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    const res = await browser.post('/oauth2/consent', consent, { decision: 'allow', request: 'eyJjbGllbnRJZCI6ImV2aWwifQ.forged' })
    expect(res.statusCode).toBe(400)
    expect(res.headers.location).toBeUndefined()
  })

  it('set the session cookie HttpOnly and SameSite=Lax', async () => {
    const { browser, page, clinic } = await start()
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const res = await browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    const cookie = [res.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('segimed_session='))
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Lax/)
  })

  it('answer a body that is not a form (invalid or empty JSON, a huge form) with a 4xx page, never a 500', async () => {
    for (const path of ['/oauth2/signin', '/oauth2/otp', '/oauth2/consent', '/oauth2/clinic', '/oauth2/patient']) {
      for (const [contentType, payload, status] of [
        ['application/json', '%%', 400],
        ['application/json', '', 400],
        ['application/x-www-form-urlencoded', `login=${'x'.repeat(20_000)}`, 413],
      ] as const) {
        const res = await t.app.inject({ method: 'POST', url: path, headers: { 'content-type': contentType }, payload })
        expect(res.statusCode, `${path} ${contentType} ${payload.slice(0, 10)}`).toBe(status)
        expect(res.headers['content-type']).toMatch(/^text\/html/)
        expect(res.body).toContain('This request cannot continue')
      }
    }
  })

  it('serve the stylesheet the CSP allows', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/oauth2/assets/style.css' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/css/)
  })
})
