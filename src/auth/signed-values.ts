import type { FastifyReply, FastifyRequest } from 'fastify'
import { generateOpaqueToken, hmac, safeEqual } from './opaque-tokens.js'

/**
 * Values the browser carries for us, signed with the server secret: the sign-in session cookie
 * and the pending authorization request in each form. Tampering or expiry makes them unreadable.
 * Format: base64url(JSON) "." HMAC-SHA256(purpose "." body).
 */
export function signValue(secret: Buffer, purpose: string, payload: object, expiresAt: Date): string {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: expiresAt.getTime() })).toString('base64url')
  return `${body}.${hmac(secret, `${purpose}.${body}`)}`
}

export function readSignedValue<T>(secret: Buffer, purpose: string, value: string | undefined, now: Date): T | undefined {
  if (!value) return undefined
  const dot = value.indexOf('.')
  if (dot < 0) return undefined
  const body = value.slice(0, dot)
  if (!safeEqual(value.slice(dot + 1), hmac(secret, `${purpose}.${body}`))) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T & { exp?: number }
    return typeof parsed.exp === 'number' && parsed.exp > now.getTime() ? parsed : undefined
  } catch {
    return undefined
  }
}

export const SESSION_COOKIE = 'segimed_session'
export const CSRF_COOKIE = 'segimed_csrf'

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export function setCookie(reply: FastifyReply, name: string, value: string, options: { maxAgeSeconds: number; secure: boolean }): void {
  const attributes = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${options.maxAgeSeconds}`]
  if (options.secure) attributes.push('Secure')
  const previous = reply.getHeader('set-cookie')
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)]
  reply.header('set-cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), attributes.join('; ')])
}

/**
 * CSRF protection for the sign-in pages: a random cookie per browser and, in every form, its
 * HMAC. A cross-site form cannot read the cookie, so it cannot produce the field (double submit,
 * bound to the server secret); SameSite=Lax keeps the cookie off cross-site POSTs as well.
 */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply, secret: Buffer, secure: boolean): string {
  let cookie = readCookie(request, CSRF_COOKIE)
  if (!cookie || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) {
    cookie = generateOpaqueToken()
    setCookie(reply, CSRF_COOKIE, cookie, { maxAgeSeconds: 24 * 3600, secure })
  }
  return hmac(secret, `csrf.${cookie}`)
}

export function isCsrfValid(request: FastifyRequest, secret: Buffer, field: string | undefined): boolean {
  const cookie = readCookie(request, CSRF_COOKIE)
  return !!cookie && !!field && safeEqual(field, hmac(secret, `csrf.${cookie}`))
}
