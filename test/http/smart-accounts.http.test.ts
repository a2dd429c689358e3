import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { startFakeMessaging } from './fake-messaging.js'
import { authorizeUrl, Browser, codeParams, newClinic, newPublicApp, newUser, PASSWORD, pkce, redirectQuery, signInAndAllow } from './smart-flow.js'

/** Accounts: sign-in with throttling, one-time codes over WhatsApp/SMS/email, password resets. */
let t: TestApp
let fake: Awaited<ReturnType<typeof startFakeMessaging>>
beforeAll(async () => {
  fake = await startFakeMessaging()
  t = await buildTestApp({
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: 'fake-token',
    TWILIO_SMS_FROM: '+15550000000',
    TWILIO_WHATSAPP_FROM: '+15550000001',
    TWILIO_API_URL: fake.url,
    GMAIL_CLIENT_ID: 'fake-client',
    GMAIL_CLIENT_SECRET: 'fake-secret',
    GMAIL_REFRESH_TOKEN: 'fake-refresh',
    GMAIL_SENDER: 'no-reply@segimed.test',
    GMAIL_API_URL: fake.url,
    GMAIL_TOKEN_URL: `${fake.url}/token`,
  })
})
afterAll(async () => {
  await t.close()
  await fake.close()
})

async function signInPage() {
  const clinic = await newClinic(t)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const browser = new Browser(t)
  const page = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', pkce().challenge)))
  return { clinic, clientId, browser, page }
}

const errorText = (html: string) => /<p class="error" role="alert">([^<]*)<\/p>/.exec(html)?.[1]

describe('sign-in', () => {
  it('answers an unknown account and a wrong password with the same status and message', async () => {
    const { clinic, browser, page } = await signInPage()
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const wrong = await browser.post('/oauth2/signin', page, { login: user.email, password: 'not the password' })
    const unknown = await browser.post('/oauth2/signin', page, { login: 'nobody-here@example.org', password: 'not the password' })
    expect(wrong.statusCode).toBe(400)
    expect(unknown.statusCode).toBe(wrong.statusCode)
    expect(errorText(unknown.body)).toBe(errorText(wrong.body))
    expect(errorText(wrong.body)).toMatch(/not correct/)
  })

  it('locks a login name after five failures, even with the right password then, with 429 and Retry-After', async () => {
    const { clinic, browser, page } = await signInPage()
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    for (let i = 0; i < 4; i++) expect((await browser.post('/oauth2/signin', page, { login: user.email, password: `wrong-${i}` })).statusCode).toBe(400)
    const fifth = await browser.post('/oauth2/signin', page, { login: user.email, password: 'wrong-5' })
    expect(fifth.statusCode).toBe(429)
    const right = await browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    expect(right.statusCode).toBe(429)
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('locks an unknown login name the same way, so lockouts reveal nothing', async () => {
    const { browser, page } = await signInPage()
    let last = 0
    for (let i = 0; i < 5; i++) last = (await browser.post('/oauth2/signin', page, { login: 'ghost@example.org', password: `x-${i}` })).statusCode
    expect(last).toBe(429)
  })

  it('locks a client address after twenty failures across login names', async () => {
    const { browser, page } = await signInPage()
    const statuses: number[] = []
    for (let i = 0; i < 21; i++) statuses.push((await browser.post('/oauth2/signin', page, { login: `someone${i}@example.org`, password: 'x' })).statusCode)
    expect(statuses.slice(0, 19).every((s) => s === 400)).toBe(true)
    expect(statuses[20]).toBe(429)
  })

  it('refuses a form without the CSRF field or cookie', async () => {
    const { clinic, page } = await signInPage()
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const stranger = new Browser(t)
    const res = await stranger.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    expect(res.statusCode).toBe(400)
    expect(res.headers['set-cookie']?.toString() ?? '').not.toMatch(/segimed_session/)
  })
})

describe('one-time codes', () => {
  it('sends a 6-digit code over WhatsApp through Twilio and signs in with it', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const phone = `+5491100${String(Date.now()).slice(-6)}`
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`, { otpRequired: true, phone })
    const browser = new Browser(t)
    const page = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', pkce().challenge)))
    const otpPage = await browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    expect(otpPage.body).toContain('action="/oauth2/otp"')
    const message = fake.sent.find((m) => m.api === 'twilio' && m.to === `whatsapp:${phone}`)
    expect(message?.from).toBe('whatsapp:+15550000001')
    const code = /(\d{6})/.exec(message?.body ?? '')?.[1] ?? ''
    expect(code).toMatch(/^\d{6}$/)
    const wrong = await browser.post('/oauth2/otp', otpPage, { code: code === '000000' ? '111111' : '000000' })
    expect(wrong.statusCode).toBe(400)
    const done = await signInAndAllow(browser, await browser.post('/oauth2/otp', otpPage, { code }), user.email)
    expect(redirectQuery(done).get('code')).toBeTruthy()
  })

  it('refuses the right code after five wrong attempts', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const phone = `+5491199${String(Date.now()).slice(-6)}`
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`, { otpRequired: true, phone })
    const browser = new Browser(t)
    const page = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', pkce().challenge)))
    const otpPage = await browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD })
    const code = /(\d{6})/.exec(fake.sent.find((m) => m.to === `whatsapp:${phone}`)?.body ?? '')?.[1] ?? ''
    const wrongCode = code === '000000' ? '111111' : '000000'
    for (let i = 0; i < 5; i++) await browser.post('/oauth2/otp', otpPage, { code: wrongCode })
    const late = await browser.post('/oauth2/otp', otpPage, { code })
    expect(late.statusCode).toBe(400)
    expect(late.body).toContain('action="/oauth2/signin"')
  })

  it('stores only a hash of the code', async () => {
    const { sql } = await import('kysely')
    const rows = await sql<{ code_hash: string }>`select code_hash from one_time_code order by created_at desc limit 5`.execute(t.services.db.db)
    for (const row of rows.rows) expect(row.code_hash).not.toMatch(/^\d{6}$/)
  })
})

describe('password reset', () => {
  async function requestReset(login: string) {
    const browser = new Browser(t)
    const form = await browser.get('/account/forgot?ui_locales=en')
    return browser.post('/account/forgot', form, { login })
  }

  it('emails a single-use link through the Gmail API, which sets a new password once', async () => {
    const clinic = await newClinic(t)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const res = await requestReset(user.email)
    expect(res.statusCode).toBe(200)
    const mail = fake.sent.find((m) => m.api === 'gmail' && m.to === user.email)
    expect(mail?.from).toBe('no-reply@segimed.test')
    const link = /(http:\/\/fhir\.test\/account\/reset\?token=[A-Za-z0-9_-]+)/.exec(mail?.body ?? '')?.[1] ?? ''
    const path = link.slice('http://fhir.test'.length)
    const browser = new Browser(t)
    const form = await browser.get(path)
    expect(form.statusCode).toBe(200)
    const done = await browser.post('/account/reset', form, { password: 'a brand new password' })
    expect(done.statusCode).toBe(200)
    const again = await browser.post('/account/reset', form, { password: 'another new password' })
    expect(again.statusCode).toBe(400)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const signIn = new Browser(t)
    const start = await signIn.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', pkce().challenge)))
    expect((await signIn.post('/oauth2/signin', start, { login: user.email, password: PASSWORD })).statusCode).toBe(400)
    const signed = await signIn.post('/oauth2/signin', start, { login: user.email, password: 'a brand new password' })
    expect(signed.statusCode).toBe(200)
    expect(signed.body).toContain('action="/oauth2/consent"')
  })

  it('answers the same for an unknown login and sends nothing', async () => {
    const before = fake.sent.length
    const known = await newClinic(t)
    const user = await newUser(t, known.tenant.tenantId, 'patient', `Patient/${known.patient.id}`)
    const a = await requestReset(user.email)
    const b = await requestReset('nobody-at-all@example.org')
    expect(b.statusCode).toBe(a.statusCode)
    expect(b.body.replace(/value="[^"]*"/g, '')).toBe(a.body.replace(/value="[^"]*"/g, ''))
    expect(fake.sent.length).toBe(before + 1)
  })
})
