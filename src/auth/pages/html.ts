import type { FastifyReply } from 'fastify'
import type { Locale } from './i18n.js'

/** Escapes text for HTML content and double- or single-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** A template literal tag that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString() {
    return this.text
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    const part = Array.isArray(value) ? value.map((v) => (v instanceof Html ? v.text : escapeHtml(v))).join('') : value instanceof Html ? value.text : escapeHtml(value)
    out += part + (strings[i + 1] ?? '')
  })
  return new Html(out)
}

export const STYLESHEET_PATH = '/oauth2/assets/style.css'

/** Small, readable on a phone: one column, large touch targets, system fonts. */
export const STYLESHEET = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6f8;color:#1d2733}
main{max-width:26rem;margin:0 auto;padding:1.5rem 1rem}h1{font-size:1.4rem;margin:0 0 1rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input[type=text],input[type=password],input[type=email],input[type=tel],input[type=search]{width:100%;padding:.75rem;font-size:1rem;border:1px solid #b8c2cc;border-radius:8px}
button{width:100%;margin-top:1rem;padding:.85rem;font-size:1rem;border:0;border-radius:8px;background:#0b6bcb;color:#fff;cursor:pointer}
button.secondary{background:#e3e8ee;color:#1d2733}ul.choices{list-style:none;padding:0;margin:0}ul.choices li{margin:.5rem 0}
ul.choices button{text-align:left;background:#fff;color:#1d2733;border:1px solid #b8c2cc}ul.scopes{padding-left:1.2rem}
.error{background:#fdecea;color:#8a1c12;padding:.75rem;border-radius:8px;margin-bottom:1rem}.note{color:#56606b;font-size:.9rem}
a{color:#0b6bcb}`

/** Sends a page with the headers every sign-in page needs (no framing, no caching, strict CSP). */
export function sendPage(reply: FastifyReply, locale: Locale, title: string, body: Html, status = 200) {
  const page = html`<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Segimed</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head>
<body><main><h1>${title}</h1><div class="card">${body}</div></main></body></html>`
  return securePage(reply).code(status).type('text/html; charset=utf-8').send(page.text)
}

export function securePage(reply: FastifyReply): FastifyReply {
  // form-action is left out on purpose: browsers apply it to the redirect that follows the
  // consent form, and that redirect goes to the app's own redirect_uri.
  return reply
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
}
