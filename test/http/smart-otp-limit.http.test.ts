import { randomInt } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { startFakeMessaging } from './fake-messaging.js'
import { authorizeUrl, Browser, codeParams, newClinic, newPublicApp, newUser, PASSWORD, pkce } from './smart-flow.js'

/**
 * One-time codes are sent at most OTP_SENDS_PER_HOUR times per account and per phone per hour,
 * through the real twilio client against the local fake Twilio API; beyond that, 429 with
 * Retry-After and no message.
 */
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
    OTP_SENDS_PER_HOUR: '3',
  })
})
afterAll(async () => {
  await t.close()
  await fake.close()
})

async function otpUser() {
  const clinic = await newClinic(t)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const phone = `+54911${String(randomInt(10_000_000, 99_999_999))}`
  const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`, { otpRequired: true, phone })
  /** Signs in with the right password in a fresh browser: the step that sends a code. */
  const signIn = async (locale = 'en') => {
    const browser = new Browser(t)
    const page = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', pkce().challenge)), { 'accept-language': locale })
    return browser.post('/oauth2/signin', page, { login: user.email, password: PASSWORD }, { 'accept-language': locale })
  }
  const messages = () => fake.sent.filter((m) => m.api === 'twilio' && m.to === `whatsapp:${phone}`)
  return { signIn, messages }
}

describe('one-time code sending limit', () => {
  it('sends three codes, then answers 429 with Retry-After and sends nothing more', async () => {
    const user = await otpUser()
    for (let i = 0; i < 3; i++) {
      const page = await user.signIn()
      expect(page.statusCode, page.body).toBe(200)
      expect(page.body).toContain('action="/oauth2/otp"')
    }
    expect(user.messages()).toHaveLength(3)
    const refused = await user.signIn()
    expect(refused.statusCode).toBe(429)
    const retryAfter = Number(refused.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(3500)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(refused.body).toContain('Too many codes were sent to you in the last hour')
    expect(refused.body).not.toContain('action="/oauth2/otp"')
    const spanish = await user.signIn('es')
    expect(spanish.statusCode).toBe(429)
    expect(spanish.body).toContain('Se te enviaron demasiados códigos')
    expect(user.messages()).toHaveLength(3)
  })

  it("counts per account: another account's codes still go out", async () => {
    const first = await otpUser()
    for (let i = 0; i < 4; i++) await first.signIn()
    const second = await otpUser()
    const page = await second.signIn()
    expect(page.statusCode).toBe(200)
    expect(second.messages()).toHaveLength(1)
    expect(first.messages()).toHaveLength(3)
  })

  it('holds the limit under concurrent sign-ins', async () => {
    const user = await otpUser()
    const pages = await Promise.all(Array.from({ length: 6 }, () => user.signIn()))
    expect(pages.map((p) => p.statusCode).sort()).toEqual([200, 200, 200, 429, 429, 429])
    expect(user.messages()).toHaveLength(3)
  })
})
