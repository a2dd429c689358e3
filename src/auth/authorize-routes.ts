import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Accounts } from './accounts.js'
import { createAuthorizationCode, listPatients, patientName, resolveGrant } from './authorize-flow.js'
import { RedirectableError, redirectTo, UntrustedRequestError, validateAuthorizeRequest, type PendingRequest } from './authorize-request.js'
import type { AuthCore } from './core.js'
import { parseForm, type FormBody } from './oauth-http.js'
import { sendPage, STYLESHEET, STYLESHEET_PATH, securePage } from './pages/html.js'
import { pickLocale, t, type Locale } from './pages/i18n.js'
import { describeScopes } from './pages/scope-words.js'
import { clinicScreen, consentScreen, messageScreen, otpScreen, patientScreen, signInScreen, type FormState } from './pages/screens.js'
import { csrfTokenFor, isCsrfValid, readCookie, readSignedValue, SESSION_COOKIE, setCookie, signValue } from './signed-values.js'

/** The browser sign-in session: account and when it signed in. */
interface Session {
  a: string
  t: number
}

const REQUEST_TTL_MS = 15 * 60 * 1000

/**
 * The authorization endpoint and the pages behind it (SMART App Launch
 * app-launch.html#obtain-authorization-code, with `authorize-post`): sign in (password, then a
 * one-time code when the account asks for one), pick the clinic, pick the patient, consent.
 * The sign-in session is server-wide, so a person signs in once for every clinic and app.
 */
export function authorizeRoutes(core: AuthCore, accounts: Accounts): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, parseForm(body as string)))
    app.setErrorHandler((err, req, reply) => {
      if (err instanceof RedirectableError) return reply.redirect(redirectTo(err.redirectUri, { error: err.code, error_description: err.message, state: err.state }), 302)
      const locale = pickLocale(undefined, req.headers['accept-language'])
      if (err instanceof UntrustedRequestError) return sendPage(reply, locale, t(locale, 'errorTitle'), messageScreen(err.message), 400)
      // Fastify's own refusals (a body that is not a form, invalid JSON, too large): the sender's fault.
      const status = (err as { statusCode?: number }).statusCode
      if (status !== undefined && status >= 400 && status < 500) return sendPage(reply, locale, t(locale, 'errorTitle'), messageScreen((err as Error).message), status)
      req.log.error({ err }, 'authorization page failed')
      return sendPage(reply, locale, t(locale, 'errorTitle'), messageScreen('Internal server error'), 500)
    })

    app.get(STYLESHEET_PATH, (_req, reply) => securePage(reply).header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET))

    const authorize = async (req: FastifyRequest, reply: FastifyReply, params: Map<string, string>) => {
      const locale = pickLocale(params.get('ui_locales'), req.headers['accept-language'])
      const { request } = await validateAuthorizeRequest(core, params, locale)
      const session = params.get('prompt') === 'login' ? undefined : sessionOf(req)
      if (session) return proceed(req, reply, request, session)
      return sendPage(reply, locale, t(locale, 'signInTitle'), signInScreen(locale, formState(req, reply, request), {}))
    }
    app.get('/oauth2/authorize', (req, reply) => authorize(req, reply, new Map(Object.entries(req.query as Record<string, string>).filter(([, v]) => typeof v === 'string'))))
    app.post('/oauth2/authorize', (req, reply) => authorize(req, reply, firstValues(formOf(req))))

    app.post('/oauth2/signin', async (req, reply) => {
      const { form, request } = checkedForm(req)
      const login = value(form, 'login')
      const result = await accounts.signIn(login, value(form, 'password'), req.ip)
      if (result.status !== 'ok') {
        if (request.tenantId) await core.audit.record({ tenantId: request.tenantId, action: 'sign-in-failed', clientId: request.clientId, address: req.ip, detail: result.status })
        const error = t(request.locale, result.status === 'locked' ? 'locked' : 'badCredentials')
        if (result.status === 'locked') reply.header('retry-after', String(Math.max(1, Math.ceil((result.until.getTime() - core.clock().getTime()) / 1000))))
        return sendPage(reply, request.locale, t(request.locale, 'signInTitle'), signInScreen(request.locale, formState(req, reply, request), { error, login }), result.status === 'locked' ? 429 : 400)
      }
      if (result.account.otp_required) {
        const sent = await accounts.sendOneTimeCode(result.account, 'sign-in', request.locale)
        if (sent.status === 'throttled') {
          reply.header('retry-after', String(sent.retryAfterSeconds))
          const error = t(request.locale, 'tooManyCodes')
          return sendPage(reply, request.locale, t(request.locale, 'signInTitle'), signInScreen(request.locale, formState(req, reply, request), { error, login }), 429)
        }
        const pending = signValue(core.secret, 'otp', { a: result.account.account_id, c: sent.codeId }, new Date(core.clock().getTime() + 5 * 60_000))
        return sendPage(reply, request.locale, t(request.locale, 'otpTitle'), otpScreen(request.locale, formState(req, reply, request), { pending, destination: sent.destination }))
      }
      return signedIn(req, reply, request, result.account.account_id)
    })

    app.post('/oauth2/otp', async (req, reply) => {
      const { form, request } = checkedForm(req)
      const pending = readSignedValue<{ a: string; c: string }>(core.secret, 'otp', value(form, 'pending'), core.clock())
      const check = pending ? await accounts.verifyOneTimeCode(pending.c, value(form, 'code')) : ({ status: 'expired' } as const)
      if (check.status === 'ok' && check.accountId === pending?.a) return signedIn(req, reply, request, check.accountId)
      if (check.status === 'invalid' && pending) {
        const state = formState(req, reply, request)
        return sendPage(reply, request.locale, t(request.locale, 'otpTitle'), otpScreen(request.locale, state, { pending: value(form, 'pending'), destination: '…', error: t(request.locale, 'badCode') }), 400)
      }
      return sendPage(reply, request.locale, t(request.locale, 'signInTitle'), signInScreen(request.locale, formState(req, reply, request), { error: t(request.locale, 'expiredCode') }), 400)
    })

    app.post('/oauth2/clinic', async (req, reply) => {
      const { form, request } = checkedForm(req)
      const session = requireSession(req, request)
      const tenant = value(form, 'tenant')
      // The choice is checked again by resolveGrant: only a clinic with a membership passes.
      if (!(await core.accounts.findMembership(tenant, session.a))) throw new UntrustedRequestError(t(request.locale, 'notMember'))
      return proceed(req, reply, { ...request, tenantId: tenant }, session)
    })

    app.post('/oauth2/patient', async (req, reply) => {
      const { form, request } = checkedForm(req)
      const session = requireSession(req, request)
      const patient = value(form, 'patient')
      if (!patient) return proceed(req, reply, request, session, value(form, 'q'))
      return proceed(req, reply, { ...request, patient }, session)
    })

    app.post('/oauth2/consent', async (req, reply) => {
      const { form, request } = checkedForm(req)
      const session = requireSession(req, request)
      const step = await resolveGrant(core, request, session.a)
      if (step.kind !== 'ready') return proceed(req, reply, request, session)
      if (value(form, 'decision') !== 'allow') {
        await core.audit.record({ tenantId: step.grant.tenantId, action: 'authorize-denied', accountId: session.a, fhirUser: step.grant.membership.fhir_user ?? undefined, clientId: request.clientId, address: req.ip, detail: 'the user denied consent' })
        return reply.redirect(redirectTo(request.redirectUri, { error: 'access_denied', error_description: 'The user denied access', state: request.state }), 302)
      }
      const code = await createAuthorizationCode(core, request, step.grant, new Date(session.t))
      return reply.redirect(redirectTo(request.redirectUri, { code, state: request.state }), 302)
    })

    async function signedIn(req: FastifyRequest, reply: FastifyReply, request: PendingRequest, accountId: string) {
      const now = core.clock()
      const session: Session = { a: accountId, t: now.getTime() }
      const value = signValue(core.secret, 'session', session, new Date(now.getTime() + core.lifetimes.session * 1000))
      setCookie(reply, SESSION_COOKIE, value, { maxAgeSeconds: core.lifetimes.session, secure: core.isProduction })
      const tenants = request.tenantId ? [request.tenantId] : (await core.accounts.listMemberships(accountId)).map((m) => m.tenant_id)
      for (const tenantId of tenants) {
        const membership = await core.accounts.findMembership(tenantId, accountId)
        await core.audit.record({ tenantId, action: 'sign-in', accountId, fhirUser: membership?.fhir_user ?? undefined, clientId: request.clientId, address: req.ip })
      }
      return proceed(req, reply, request, session)
    }

    async function proceed(req: FastifyRequest, reply: FastifyReply, request: PendingRequest, session: Session, query = '') {
      const step = await resolveGrant(core, request, session.a)
      const locale = request.locale
      switch (step.kind) {
        case 'denied':
          if (request.tenantId) await core.audit.record({ tenantId: request.tenantId, action: 'authorize-denied', accountId: session.a, clientId: request.clientId, address: req.ip, detail: step.description })
          return reply.redirect(redirectTo(request.redirectUri, { error: step.code, error_description: step.description, state: request.state }), 302)
        case 'pick-clinic':
          return sendPage(reply, locale, t(locale, 'clinicTitle'), clinicScreen(locale, formState(req, reply, request), step.clinics))
        case 'pick-patient': {
          const patients = await listPatients(core, request.tenantId ?? '', query)
          return sendPage(reply, locale, t(locale, 'patientTitle'), patientScreen(locale, formState(req, reply, request), { patients, query }))
        }
        case 'ready': {
          const { grant } = step
          const name = grant.patient ? await patientName(core, grant.tenantId, grant.patient) : undefined
          const pinned = { ...request, tenantId: grant.tenantId, ...(grant.patient ? { patient: grant.patient } : {}) }
          return sendPage(
            reply,
            locale,
            t(locale, 'consentTitle'),
            consentScreen(locale, formState(req, reply, pinned), { clientName: grant.client.name, lines: describeScopes(grant.scope, locale), patientName: name, clinicName: grant.tenantName }),
          )
        }
      }
    }

    function formState(req: FastifyRequest, reply: FastifyReply, request: PendingRequest): FormState {
      return {
        csrf: csrfTokenFor(req, reply, core.secret, core.isProduction),
        request: signValue(core.secret, 'request', request, new Date(core.clock().getTime() + REQUEST_TTL_MS)),
      }
    }

    function checkedForm(req: FastifyRequest): { form: FormBody; request: PendingRequest } {
      const form = formOf(req)
      const locale = pickLocale(undefined, req.headers['accept-language'])
      if (!isCsrfValid(req, core.secret, form.get('csrf')?.[0])) throw new UntrustedRequestError(locale === 'es' ? 'La página venció o no vino de este sitio. Vuelve a la aplicación.' : 'This page expired or did not come from this site. Go back to the app.')
      const request = readSignedValue<PendingRequest>(core.secret, 'request', form.get('request')?.[0], core.clock())
      if (!request) throw new UntrustedRequestError(locale === 'es' ? 'La solicitud venció. Vuelve a la aplicación.' : 'The request expired. Go back to the app and start again.')
      return { form, request }
    }

    function sessionOf(req: FastifyRequest): Session | undefined {
      return readSignedValue<Session>(core.secret, 'session', readCookie(req, SESSION_COOKIE), core.clock())
    }

    function requireSession(req: FastifyRequest, request: PendingRequest): Session {
      const session = sessionOf(req)
      if (!session) throw new UntrustedRequestError(request.locale === 'es' ? 'La sesión terminó. Vuelve a la aplicación.' : 'Your session ended. Go back to the app.')
      return session
    }
  }
}

function formOf(req: FastifyRequest): FormBody {
  if (!(req.body instanceof Map)) throw new UntrustedRequestError('The form must be application/x-www-form-urlencoded')
  return req.body as FormBody
}

const value = (form: FormBody, name: string): string => form.get(name)?.[0] ?? ''

function firstValues(form: FormBody): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of form) {
    if (v.length > 1) throw new UntrustedRequestError(`${k} must not be repeated`)
    if (v[0] !== undefined) out.set(k, v[0])
  }
  return out
}

export type { Locale }
