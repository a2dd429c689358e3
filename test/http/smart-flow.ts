import { createHash, randomBytes } from 'node:crypto'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Patient } from '@medplum/fhirtypes'
import { expect } from 'vitest'
import type { MembershipRole } from '../../src/resources/index.js'
import { makePatient } from '../fixtures/builders.js'
import type { TestApp, TestTenant } from '../setup/app.js'

/** Helpers that drive the SMART authorization pages the way a browser would, through inject(). */

export const REDIRECT = 'https://app.example/callback'
export const PASSWORD = 'correct horse battery'

export function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** A browser: remembers cookies between requests. */
export class Browser {
  readonly cookies = new Map<string, string>()
  /**
   * Each browser comes from its own loopback address: sign-in throttling counts failures per
   * address, and tests must not lock each other out.
   */
  readonly address = `127.${randomBytes(1)[0]! % 250}.${randomBytes(1)[0]! % 250}.${(randomBytes(1)[0]! % 250) + 1}`
  constructor(private readonly t: TestApp) {}

  async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await this.t.app.inject({ remoteAddress: this.address, ...options, headers: { ...(options.headers ?? {}), ...(cookie ? { cookie } : {}) } } as InjectOptions)
    const set = res.headers['set-cookie']
    for (const c of (Array.isArray(set) ? set : set ? [set] : []).map(String)) {
      const [pair = ''] = c.split(';')
      const eq = pair.indexOf('=')
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    return res
  }

  get(url: string, headers: Record<string, string> = {}) {
    return this.request({ method: 'GET', url, headers })
  }

  /** Submits a form of the last page: its hidden fields plus `fields`. */
  post(url: string, page: LightMyRequestResponse, fields: Record<string, string>, headers: Record<string, string> = {}) {
    const form = new URLSearchParams({ ...hiddenFields(page.body), ...fields })
    return this.request({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: form.toString() })
  }
}

export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = decodeEntities(m[2]!)
  return out
}

const decodeEntities = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

export interface Clinic {
  tenant: TestTenant
  aud: string
  patient: Patient
}

/** A tenant with one Patient (Ana García). */
export async function newClinic(t: TestApp): Promise<Clinic> {
  const tenant = await t.newTenant()
  const res = await tenant.request('POST', '/Patient', { body: makePatient() })
  expect(res.statusCode, res.body).toBe(201)
  return { tenant, aud: `${t.config.baseUrl}/fhir/${tenant.tenantId}`, patient: res.json<Patient>() }
}

let counter = 0
/** An account with a password and a membership in the clinic. */
export async function newUser(t: TestApp, tenantId: string, role: MembershipRole, fhirUser: string | null, options: { otpRequired?: boolean; phone?: string } = {}) {
  counter += 1
  const email = `user${counter}-${randomBytes(4).toString('hex')}@example.org`
  const { account_id } = await t.services.auth.createAccount({ email, password: PASSWORD, otpRequired: options.otpRequired, ...(options.phone ? { phone: options.phone } : {}) })
  await t.services.auth.setMembership(tenantId, account_id, role, fhirUser)
  return { email, accountId: account_id }
}

export const DEFAULT_APP_SCOPE = 'openid fhirUser launch launch/patient launch/encounter offline_access online_access patient/*.cruds user/*.cruds'

/** A public client of the clinic with one redirect URI. */
export async function newPublicApp(t: TestApp, tenantId: string, scope = DEFAULT_APP_SCOPE, extra: { allTenants?: boolean } = {}) {
  const { client_id } = await t.services.auth.registerClient(tenantId, { name: 'Vitals app', type: 'public', scope, redirectUris: [REDIRECT], ...extra })
  return client_id
}

export function authorizeUrl(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v)
  return `/oauth2/authorize?${q.toString()}`
}

export function codeParams(clientId: string, aud: string, scope: string, challenge: string, extra: Record<string, string> = {}) {
  return { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope, state: 'xyz', aud, code_challenge: challenge, code_challenge_method: 'S256', ...extra }
}

/** The query of a redirect to the app. */
export function redirectQuery(res: LightMyRequestResponse): URLSearchParams {
  expect(res.statusCode, res.body).toBe(302)
  const location = String(res.headers.location)
  expect(location.startsWith(REDIRECT)).toBe(true)
  return new URL(location).searchParams
}

/**
 * Signs in on the page and walks the pages until the app gets its redirect: picks the first
 * clinic or `patient` when asked, and allows on the consent page.
 */
export async function signInAndAllow(browser: Browser, start: LightMyRequestResponse, login: string, options: { patient?: string; tenant?: string } = {}) {
  let page = start
  if (page.body.includes('action="/oauth2/signin"')) page = await browser.post('/oauth2/signin', page, { login, password: PASSWORD })
  for (let step = 0; step < 5 && page.statusCode === 200; step++) {
    if (page.body.includes('action="/oauth2/clinic"')) {
      const tenant = options.tenant ?? /name="tenant" value="([^"]+)"/.exec(page.body)?.[1] ?? ''
      page = await browser.post('/oauth2/clinic', page, { tenant })
    } else if (page.body.includes('action="/oauth2/patient"')) {
      page = await browser.post('/oauth2/patient', page, { patient: options.patient ?? '' })
    } else if (page.body.includes('action="/oauth2/consent"')) {
      page = await browser.post('/oauth2/consent', page, { decision: 'allow' })
    } else break
  }
  return page
}

export async function exchangeCode(t: TestApp, form: Record<string, string>, authorization?: string) {
  return t.app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    payload: new URLSearchParams(form).toString(),
  })
}

/** The whole standalone launch for a user: authorize → sign in → consent → token response. */
export async function launch(t: TestApp, options: { clientId: string; aud: string; scope: string; login: string; patient?: string; extra?: Record<string, string> }) {
  const browser = new Browser(t)
  const { verifier, challenge } = pkce()
  const start = await browser.get(authorizeUrl(codeParams(options.clientId, options.aud, options.scope, challenge, options.extra)))
  const done = await signInAndAllow(browser, start, options.login, { patient: options.patient })
  const query = redirectQuery(done)
  expect(query.get('error'), query.get('error_description') ?? '').toBeNull()
  const res = await exchangeCode(t, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier, client_id: options.clientId })
  expect(res.statusCode, res.body).toBe(200)
  return { token: res.json(), browser, code: query.get('code') ?? '', verifier }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
