import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { OAuthStore, SigningKey } from '../resources/index.js'

/** Access tokens are ES256; id_tokens RS256, the one algorithm every OpenID client supports. */
export const TOKEN_ALG = 'ES256'
export const ID_TOKEN_ALG = 'RS256'
export type SigningAlg = typeof TOKEN_ALG | typeof ID_TOKEN_ALG
const ALGS: readonly SigningAlg[] = [TOKEN_ALG, ID_TOKEN_ALG]

export interface SigningKeys {
  /** The key new tokens of `alg` are signed with: the newest one. */
  current(alg: SigningAlg): { kid: string; privateKey: CryptoKey }
  /** Public keys that verify, by kid: the current and the previous key of each alg. */
  readonly publicKeys: ReadonlyMap<string, { alg: SigningAlg; key: CryptoKey }>
  /** The JWK Set to publish: the same current and previous keys (RFC 7517). */
  jwks(): { keys: JWK[] }
  /** Re-reads the keys (another instance may have rotated them). */
  reload(): Promise<void>
}

/**
 * Loads the token signing keys, creating the first key of each alg if there is none (the store
 * serialises that insert, so instances starting together share one key). Keys change only on
 * `reload`, so verifying a token never touches the database.
 */
export async function loadSigningKeys(store: OAuthStore): Promise<SigningKeys> {
  let state = await readKeys(store)
  return {
    current(alg) {
      const key = state.current.get(alg)
      if (!key) throw new Error(`No ${alg} signing key is loaded`)
      return key
    },
    get publicKeys() {
      return state.publicKeys
    },
    jwks: () => ({ keys: state.jwks }),
    async reload() {
      state = await readKeys(store)
    },
  }
}

/** Adds a new key of each alg; it signs from the next reload on, and the old one still verifies. */
export async function rotateSigningKeys(store: OAuthStore): Promise<string[]> {
  const kids: string[] = []
  for (const alg of ALGS) {
    const row = await generateSigningKey(alg)
    await store.insertSigningKey(row)
    kids.push(row.kid)
  }
  return kids
}

async function readKeys(store: OAuthStore) {
  const all = await store.listSigningKeys()
  const current = new Map<SigningAlg, { kid: string; privateKey: CryptoKey }>()
  const publicKeys = new Map<string, { alg: SigningAlg; key: CryptoKey }>()
  const jwks: JWK[] = []
  for (const alg of ALGS) {
    let rows = all.filter((row) => row.alg === alg)
    if (rows.length === 0) rows = [await store.insertFirstSigningKey(await generateSigningKey(alg))]
    const [newest] = rows
    if (!newest) throw new Error(`No ${alg} signing key could be loaded or created`)
    current.set(alg, { kid: newest.kid, privateKey: await importKey(newest.private_jwk, alg) })
    for (const row of rows.slice(0, 2)) {
      publicKeys.set(row.kid, { alg, key: await importKey(row.public_jwk, alg) })
      jwks.push(JSON.parse(row.public_jwk) as JWK)
    }
  }
  return { current, publicKeys, jwks }
}

async function generateSigningKey(alg: SigningAlg) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === ID_TOKEN_ALG ? { modulusLength: 2048 } : {}) })
  const kid = randomUUID()
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' }
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, private_jwk: JSON.stringify(privateJwk), public_jwk: JSON.stringify(publicJwk) }
}

async function importKey(jwkText: SigningKey['public_jwk'], alg: SigningAlg): Promise<CryptoKey> {
  const key = await importJWK(JSON.parse(jwkText) as JWK, alg)
  if (key instanceof Uint8Array) throw new Error('A signing key must be an asymmetric key, not a symmetric secret')
  return key
}
