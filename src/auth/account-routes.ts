import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { isFhirError } from '../errors.js'
import type { Accounts } from './accounts.js'
import type { AuthCore } from './core.js'
import { parseForm, type FormBody } from './oauth-http.js'
import { sendPage } from './pages/html.js'
import { pickLocale, t } from './pages/i18n.js'
import { forgotScreen, messageScreen, resetScreen } from './pages/screens.js'
import { csrfTokenFor, isCsrfValid } from './signed-values.js'

/**
 * Password reset pages: /account/forgot asks for the login and sends a single-use link (the same
 * answer whether or not the account exists); /account/reset sets the new password once.
 */
export function accountRoutes(core: AuthCore, accounts: Accounts): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, parseForm(body as string)))
    const localeOf = (req: FastifyRequest, form?: FormBody) =>
      pickLocale(form?.get('ui_locales')?.[0] ?? (req.query as { ui_locales?: string }).ui_locales, req.headers['accept-language'])
    const csrf = (req: FastifyRequest, reply: Parameters<typeof csrfTokenFor>[1]) => csrfTokenFor(req, reply, core.secret, core.isProduction)
    const formOf = (req: FastifyRequest): FormBody => (req.body instanceof Map ? (req.body as FormBody) : new Map())

    app.get('/account/forgot', (req, reply) => {
      const locale = localeOf(req)
      return sendPage(reply, locale, t(locale, 'resetRequestTitle'), forgotScreen(locale, csrf(req, reply)))
    })

    app.post('/account/forgot', async (req, reply) => {
      const form = formOf(req)
      const locale = localeOf(req, form)
      if (!isCsrfValid(req, core.secret, form.get('csrf')?.[0])) return sendPage(reply, locale, t(locale, 'errorTitle'), messageScreen(t(locale, 'resetInvalid')), 400)
      await accounts.requestPasswordReset(form.get('login')?.[0] ?? '', locale)
      return sendPage(reply, locale, t(locale, 'resetRequestTitle'), messageScreen(t(locale, 'resetRequestDone')))
    })

    app.get('/account/reset', (req, reply) => {
      const locale = localeOf(req)
      const token = (req.query as { token?: string }).token ?? ''
      return sendPage(reply, locale, t(locale, 'resetTitle'), resetScreen(locale, csrf(req, reply), token))
    })

    app.post('/account/reset', async (req, reply) => {
      const form = formOf(req)
      const locale = localeOf(req, form)
      const token = form.get('token')?.[0] ?? ''
      if (!isCsrfValid(req, core.secret, form.get('csrf')?.[0])) return sendPage(reply, locale, t(locale, 'errorTitle'), messageScreen(t(locale, 'resetInvalid')), 400)
      try {
        if (!(await accounts.resetPassword(token, form.get('password')?.[0] ?? ''))) {
          return sendPage(reply, locale, t(locale, 'resetTitle'), messageScreen(t(locale, 'resetInvalid'), { href: `/account/forgot?ui_locales=${locale}`, text: t(locale, 'resetRequestTitle') }), 400)
        }
      } catch (e) {
        if (!isFhirError(e) || e.kind !== 'invalid') throw e
        return sendPage(reply, locale, t(locale, 'resetTitle'), resetScreen(locale, csrf(req, reply), token, e.message), 400)
      }
      return sendPage(reply, locale, t(locale, 'resetTitle'), messageScreen(t(locale, 'resetDone')))
    })
  }
}
