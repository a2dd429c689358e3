import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * Client secrets at rest: scrypt with a per-secret random salt, stored as
 * `scrypt$N$r$p$<salt>$<hash>` (base64url) so the cost can be raised later without breaking
 * existing rows. Hashing is async: scrypt runs on the libuv pool, not the event loop.
 */

const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const
const KEY_LENGTH = 32
const SALT_BYTES = 16

/** A new random client secret (256 bits, base64url). */
export const generateClientSecret = (): string => randomBytes(32).toString('base64url')

export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(secret, salt, SCRYPT_COST)
  const { N, r, p } = SCRYPT_COST
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$')
}

/** Constant-time check of `secret` against a stored hash; false for a malformed hash. */
export async function isClientSecretValid(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  if (expected.length < 16) return false
  const actual = await derive(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) }, expected.length)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

function derive(secret: string, salt: Buffer, cost: ScryptOptions, length = KEY_LENGTH): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, length, { ...cost, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}
