import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Random opaque values (authorization codes, refresh tokens, reset tokens, launch ids) and
 * their at-rest form: a SHA-256 hash, so a database dump hands out nothing usable. 256 bits of
 * randomness make a plain hash enough (no salt or slow hash needed for a non-guessable value).
 */
export const generateOpaqueToken = (bytes = 32): string => randomBytes(bytes).toString('base64url')

export const hashOpaqueToken = (value: string): string => createHash('sha256').update(value, 'utf8').digest('base64url')

/** HMAC-SHA256 with the server secret, base64url: for low-entropy values (one-time codes) and signed cookies. */
export const hmac = (secret: Buffer, value: string): string => createHmac('sha256', secret).update(value, 'utf8').digest('base64url')

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** PKCE S256 (RFC 7636 §4.6): BASE64URL(SHA256(ASCII(code_verifier))) compared to the challenge. */
export function isPkceVerifierValid(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false
  return safeEqual(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge)
}
