import { randomUUID } from 'node:crypto'
import { conflict, invalid } from '../errors.js'
import type { OAuthClient, OAuthStore } from '../resources/index.js'
import { generateClientSecret, hashClientSecret, isClientSecretValid } from './client-secret.js'

/** Confidential OAuth clients: registration and authentication (RFC 6749 §2.3.1). */
export interface ClientRegistry {
  createClient(
    tenantId: string,
    options: { name: string; scope: string; clientId?: string; clientSecret?: string },
  ): Promise<{ client_id: string; client_secret: string }>
  ensureClient(tenantId: string, options: { clientId: string; clientSecret: string; name: string; scope: string }): Promise<void>
  /** The client if `secret` is its secret; undefined for an unknown client or a wrong secret alike. */
  authenticateClient(clientId: string, secret: string): Promise<OAuthClient | undefined>
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/

export function createClientRegistry(store: OAuthStore): ClientRegistry {
  // Compared against when the client_id is unknown, so that an unknown client takes as long
  // to refuse as a wrong secret (no client enumeration by timing).
  let decoyHash: Promise<string> | undefined

  return {
    async createClient(tenantId, options) {
      const clientId = options.clientId ?? randomUUID()
      const clientSecret = options.clientSecret ?? generateClientSecret()
      checkRegistration(clientId, clientSecret)
      const row = { tenant_id: tenantId, client_id: clientId, name: options.name, scope: options.scope, secret_hash: await hashClientSecret(clientSecret) }
      if (!(await store.insertClient(row))) throw conflict(`OAuth client ${clientId} already exists`)
      return { client_id: clientId, client_secret: clientSecret }
    },

    async ensureClient(tenantId, options) {
      checkRegistration(options.clientId, options.clientSecret)
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
      if (!client) {
        decoyHash ??= hashClientSecret(generateClientSecret())
        await isClientSecretValid(secret, await decoyHash)
        return undefined
      }
      return (await isClientSecretValid(secret, client.secret_hash)) ? client : undefined
    },
  }
}

function checkRegistration(clientId: string, clientSecret: string): void {
  if (!CLIENT_ID.test(clientId)) throw invalid(`client_id must be 1-128 characters of A-Z a-z 0-9 . _ ~ -`)
  if (clientSecret.length < 16) throw invalid('client_secret must be at least 16 characters')
}
