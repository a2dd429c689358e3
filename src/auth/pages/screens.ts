import { t, type Locale } from './i18n.js'
import { html, type Html } from './html.js'

/** The bodies of the sign-in pages. Every form carries the CSRF field and the signed request. */
export interface FormState {
  csrf: string
  /** The signed pending authorization request (opaque to the page). */
  request: string
}

const hidden = (state: FormState) => html`<input type="hidden" name="csrf" value="${state.csrf}"><input type="hidden" name="request" value="${state.request}">`
const errorBox = (message: string | undefined) => (message ? html`<p class="error" role="alert">${message}</p>` : html``)

export function signInScreen(locale: Locale, state: FormState, options: { error?: string; login?: string }): Html {
  return html`${errorBox(options.error)}<form method="post" action="/oauth2/signin">${hidden(state)}
<label for="login">${t(locale, 'login')}</label><input id="login" name="login" type="text" autocomplete="username" required value="${options.login ?? ''}">
<label for="password">${t(locale, 'password')}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${t(locale, 'signIn')}</button></form>
<p class="note"><a href="/account/forgot?ui_locales=${locale}">${t(locale, 'forgot')}</a></p>`
}

export function otpScreen(locale: Locale, state: FormState, options: { pending: string; destination: string; error?: string }): Html {
  return html`${errorBox(options.error)}<p>${t(locale, 'otpSent')} <strong>${options.destination}</strong>.</p>
<form method="post" action="/oauth2/otp">${hidden(state)}<input type="hidden" name="pending" value="${options.pending}">
<label for="code">${t(locale, 'code')}</label><input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required>
<button type="submit">${t(locale, 'verify')}</button></form>`
}

export function clinicScreen(locale: Locale, state: FormState, clinics: readonly { tenantId: string; name: string }[]): Html {
  const items = clinics.map((c) => html`<li><button type="submit" name="tenant" value="${c.tenantId}">${c.name}</button></li>`)
  return html`<p>${t(locale, 'clinicIntro')}</p><form method="post" action="/oauth2/clinic">${hidden(state)}<ul class="choices">${items}</ul></form>`
}

export function patientScreen(locale: Locale, state: FormState, options: { patients: readonly { id: string; name: string; birthDate?: string }[]; query: string }): Html {
  const items = options.patients.map(
    (p) => html`<li><button type="submit" name="patient" value="${p.id}">${p.name}${p.birthDate ? html` <span class="note">(${p.birthDate})</span>` : html``}</button></li>`,
  )
  return html`<p>${t(locale, 'patientIntro')}</p>
<form method="post" action="/oauth2/patient">${hidden(state)}<label for="q">${t(locale, 'filter')}</label><input id="q" name="q" type="search" value="${options.query}">
<button type="submit" class="secondary" name="patient" value="">${t(locale, 'search')}</button></form>
<form method="post" action="/oauth2/patient">${hidden(state)}${items.length ? html`<ul class="choices">${items}</ul>` : html`<p>${t(locale, 'noPatients')}</p>`}</form>`
}

export function consentScreen(locale: Locale, state: FormState, options: { clientName: string; lines: readonly string[]; patientName?: string; clinicName: string }): Html {
  const lines = options.lines.map((l) => html`<li>${l}</li>`)
  return html`<p><strong>${options.clientName}</strong> ${t(locale, 'consentIntro')}</p><ul class="scopes">${lines}</ul>
${options.patientName ? html`<p>${t(locale, 'forPatient')}: <strong>${options.patientName}</strong></p>` : html``}<p class="note">${options.clinicName}</p>
<form method="post" action="/oauth2/consent">${hidden(state)}<button type="submit" name="decision" value="allow">${t(locale, 'allow')}</button>
<button type="submit" class="secondary" name="decision" value="deny">${t(locale, 'deny')}</button></form>`
}

export function messageScreen(message: string, link?: { href: string; text: string }): Html {
  return html`<p>${message}</p>${link ? html`<p><a href="${link.href}">${link.text}</a></p>` : html``}`
}

export function forgotScreen(locale: Locale, csrf: string): Html {
  return html`<form method="post" action="/account/forgot"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="ui_locales" value="${locale}">
<label for="login">${t(locale, 'login')}</label><input id="login" name="login" type="text" autocomplete="username" required>
<button type="submit">${t(locale, 'send')}</button></form>`
}

export function resetScreen(locale: Locale, csrf: string, token: string, error?: string): Html {
  return html`${errorBox(error)}<form method="post" action="/account/reset"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="token" value="${token}"><input type="hidden" name="ui_locales" value="${locale}">
<label for="password">${t(locale, 'newPassword')}</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<button type="submit">${t(locale, 'save')}</button></form>`
}
