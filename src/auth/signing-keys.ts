import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { OAuthStore, SigningKey } from '../resources/index.js'

export const TOKEN_ALG = 'ES256'

export interface SigningKeys {
  /** The key new tokens are signed with: the newest one. */
  current: { kid: string; privateKey: CryptoKey }
  /** Every stored public key by kid, so tokens signed before a rotation still verify. */
  publicKeys: ReadonlyMap<string, CryptoKey>
}

/**
 * Loads the token signing keys once, at startup, creating the first one if the table is empty.
 * The store serialises that first insert, so instances starting together share one key.
 */
export async function loadSigningKeys(store: OAuthStore): Promise<SigningKeys> {
  let rows = (await store.listSigningKeys()).filter((row) => row.alg === TOKEN_ALG)
  if (rows.length === 0) rows = [await store.insertFirstSigningKey(await generateSigningKey())]
  const [newest] = rows
  if (!newest) throw new Error('No signing key could be loaded or created')
  const publicKeys = new Map<string, CryptoKey>()
  for (const row of rows) publicKeys.set(row.kid, await importKey(row.public_jwk))
  return { current: { kid: newest.kid, privateKey: await importKey(newest.private_jwk) }, publicKeys }
}

async function generateSigningKey() {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { extractable: true })
  const kid = randomUUID()
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALG, use: 'sig' }
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALG, use: 'sig' }
  return { kid, alg: TOKEN_ALG, private_jwk: JSON.stringify(privateJwk), public_jwk: JSON.stringify(publicJwk) }
}

async function importKey(jwkText: SigningKey['public_jwk']): Promise<CryptoKey> {
  const key = await importJWK(JSON.parse(jwkText) as JWK, TOKEN_ALG)
  if (key instanceof Uint8Array) throw new Error('A signing key must be an EC key, not a symmetric secret')
  return key
}
