import { randomUUID } from 'node:crypto'
import { conflict, invalid } from '../errors.js'
import type { NewOAuthClient, OAuthClient, OAuthStore } from '../resources/index.js'
import { generateClientSecret, hashClientSecret, isClientSecretValid } from './client-secret.js'

export type ClientType = 'public' | 'confidential-symmetric' | 'confidential-asymmetric'

/** What registering a client takes (SMART App Launch client types, RFC 7591 names where they exist). */
export interface ClientRegistration {
  name: string
  scope: string
  /** Defaults to confidential-symmetric (a generated secret). */
  type?: ClientType
  clientId?: string
  /** confidential-symmetric only; generated when absent. */
  clientSecret?: string
  /** Exact redirect URIs (compared character for character at authorize and token time). */
  redirectUris?: readonly string[]
  /** confidential-asymmetric: an inline JWK Set, or a URL serving one. */
  jwks?: { keys: unknown[] }
  jwksUri?: string
  launchUri?: string
  /** A first-party app usable in every clinic where the signed-in account is a member. */
  allTenants?: boolean
}

/** OAuth clients: registration and authentication by secret (RFC 6749 §2.3.1). */
export interface ClientRegistry {
  registerClient(tenantId: string, options: ClientRegistration): Promise<{ client_id: string; client_secret?: string }>
  ensureClient(tenantId: string, options: { clientId: string; clientSecret: string; name: string; scope: string }): Promise<void>
  /** The client if `secret` is its secret; undefined for an unknown client or a wrong secret alike. */
  authenticateClient(clientId: string, secret: string): Promise<OAuthClient | undefined>
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/
const MAX_REDIRECT_URIS = 20

export function createClientRegistry(store: OAuthStore): ClientRegistry {
  // Compared against when the client_id is unknown, so that an unknown client takes as long
  // to refuse as a wrong secret (no client enumeration by timing).
  let decoyHash: Promise<string> | undefined
  const decoy = async (secret: string) => {
    decoyHash ??= hashClientSecret(generateClientSecret())
    await isClientSecretValid(secret, await decoyHash)
  }

  return {
    async registerClient(tenantId, options) {
      const type = options.type ?? 'confidential-symmetric'
      const clientId = options.clientId ?? randomUUID()
      const clientSecret = type === 'confidential-symmetric' ? (options.clientSecret ?? generateClientSecret()) : undefined
      checkRegistration(clientId, type, options, clientSecret)
      const row: NewOAuthClient = {
        tenant_id: tenantId,
        client_id: clientId,
        name: options.name,
        scope: options.scope,
        client_type: type,
        secret_hash: clientSecret ? await hashClientSecret(clientSecret) : null,
        redirect_uris: [...(options.redirectUris ?? [])],
        jwks: options.jwks ? JSON.stringify(options.jwks) : null,
        jwks_uri: options.jwksUri ?? null,
        launch_uri: options.launchUri ?? null,
        all_tenants: options.allTenants ?? false,
      }
      if (!(await store.insertClient(row))) throw conflict(`OAuth client ${clientId} already exists`)
      return clientSecret ? { client_id: clientId, client_secret: clientSecret } : { client_id: clientId }
    },

    async ensureClient(tenantId, options) {
      checkRegistration(options.clientId, 'confidential-symmetric', {}, options.clientSecret)
      const existing = await store.findClient(options.clientId)
      if (!existing) {
        const secretHash = await hashClientSecret(options.clientSecret)
        const row = { tenant_id: tenantId, client_id: options.clientId, name: options.name, scope: options.scope, secret_hash: secretHash }
        // A concurrent instance may win the insert; the re-read below then checks its row.
        if (await store.insertClient(row)) return
      }
      const current = existing ?? (await store.findClient(options.clientId))
      if (current && current.tenant_id !== tenantId) {
        throw conflict(`OAuth client ${options.clientId} is already registered to tenant ${current.tenant_id}, not ${tenantId}`)
      }
    },

    async authenticateClient(clientId, secret) {
      const client = await store.findClient(clientId)
      if (!client?.secret_hash) {
        await decoy(secret)
        return undefined
      }
      return (await isClientSecretValid(secret, client.secret_hash)) ? client : undefined
    },
  }
}

function checkRegistration(clientId: string, type: ClientType, options: Partial<ClientRegistration>, clientSecret: string | undefined): void {
  if (!CLIENT_ID.test(clientId)) throw invalid(`client_id must be 1-128 characters of A-Z a-z 0-9 . _ ~ -`)
  if (!['public', 'confidential-symmetric', 'confidential-asymmetric'].includes(type)) throw invalid(`client type '${type}' is not known`)
  if (type === 'confidential-symmetric' && (clientSecret ?? '').length < 16) throw invalid('client_secret must be at least 16 characters')
  if (type !== 'confidential-symmetric' && options.clientSecret !== undefined) throw invalid(`a ${type} client has no client_secret`)
  if (type === 'confidential-asymmetric') {
    if (!options.jwks === !options.jwksUri) throw invalid('a confidential-asymmetric client needs exactly one of jwks and jwks_uri')
    if (options.jwks && (!Array.isArray(options.jwks.keys) || options.jwks.keys.length === 0)) throw invalid('jwks must be a JWK Set: {"keys": [...]}')
    if (options.jwksUri && !isHttpUrl(options.jwksUri)) throw invalid('jwks_uri must be an http(s) URL')
  } else if (options.jwks || options.jwksUri) {
    throw invalid('only confidential-asymmetric clients register a JWKS')
  }
  const uris = options.redirectUris ?? []
  if (uris.length > MAX_REDIRECT_URIS) throw invalid(`at most ${MAX_REDIRECT_URIS} redirect URIs`)
  for (const uri of uris) checkRedirectUri(uri)
  if (options.launchUri !== undefined && !isHttpUrl(options.launchUri)) throw invalid('launch_uri must be an http(s) URL')
}

/** RFC 6749 §3.1.2: absolute, no fragment. Native apps may use a private-use scheme (RFC 8252 §7.1). */
function checkRedirectUri(uri: string): void {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw invalid(`redirect URI '${uri}' is not an absolute URI`)
  }
  if (url.hash || uri.includes('#')) throw invalid(`redirect URI '${uri}' must not have a fragment`)
  if (['javascript:', 'data:', 'file:', 'vbscript:'].includes(url.protocol)) throw invalid(`redirect URI scheme ${url.protocol} is not allowed`)
}

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}
