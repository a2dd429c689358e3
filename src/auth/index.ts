import type { FastifyPluginAsync } from 'fastify'
import type { OAuthStore } from '../resources/index.js'
import type { AuthContext } from './access.js'
import { issueAccessToken, verifyAccessToken, type TokenSettings } from './access-token.js'
import { createClientRegistry } from './clients.js'
import { loadSigningKeys } from './signing-keys.js'
import { tokenRoutes } from './token-route.js'
import { VerifiedTokens } from './verified-tokens.js'

export { assertAllowed } from './access.js'
export type { AuthContext, Interaction } from './access.js'
export { parseScopes } from './scopes.js'
export type { ScopeContext, ScopeGrant, ScopeLetter } from './scopes.js'

/** The authorization server and token verifier of one Segimed FHIR process. */
export interface Auth {
  /**
   * Fastify plugin serving `POST /oauth2/token` (register it at the server root, outside the
   * FHIR base). OAuth 2.0 client_credentials with client_secret_basic or client_secret_post;
   * an optional `scope` parameter is narrowed to the client's registered scopes.
   * https://www.rfc-editor.org/rfc/rfc6749#section-4.4 — errors are RFC 6749 §5.2 JSON
   * (400, or 401 with WWW-Authenticate for invalid_client), never OperationOutcome.
   */
  tokenRoutes: FastifyPluginAsync
  /**
   * Verifies `Authorization: Bearer <jwt>` for a request to tenant `tenantId`, with keys held in
   * memory (no database call). Throws FhirError `unauthorized` for a missing, malformed, expired,
   * badly signed, non-ES256 or foreign-issuer token and `forbidden` for a valid token of
   * another tenant. https://www.rfc-editor.org/rfc/rfc6750#section-2.1
   */
  verify(authorization: string | undefined, tenantId: string): Promise<AuthContext>
  /**
   * Registers a confidential client of `tenantId` (the tenant row must exist) and returns its
   * secret, the only time it is visible: it is stored as a salted scrypt hash. Generates the
   * client_id and secret when not given. Throws FhirError `invalid` for a bad client_id or a
   * secret under 16 characters and `conflict` when the client_id is taken.
   */
  createClient(
    tenantId: string,
    options: { name: string; scope: string; clientId?: string; clientSecret?: string },
  ): Promise<{ client_id: string; client_secret: string }>
  /**
   * For BOOTSTRAP_*: registers the client unless its client_id exists. Idempotent and safe when
   * several instances start at once; an existing client keeps its secret and scope. Throws
   * FhirError `conflict` when the client_id belongs to another tenant.
   */
  ensureClient(tenantId: string, options: { clientId: string; clientSecret: string; name: string; scope: string }): Promise<void>
}

/**
 * Builds the `Auth` service: loads the ES256 signing keys (creating the first one if there is
 * none), so tokens from every instance sharing the database verify everywhere.
 */
export async function createAuth(deps: { store: OAuthStore; issuer: string; tokenTtlSeconds: number; clock?: () => Date }): Promise<Auth> {
  const clock = deps.clock ?? (() => new Date())
  const settings: TokenSettings = {
    keys: await loadSigningKeys(deps.store),
    issuer: deps.issuer.replace(/\/+$/, ''),
    clock,
    verified: new VerifiedTokens(),
  }
  const clients = createClientRegistry(deps.store)

  return {
    tokenRoutes: tokenRoutes({
      authenticateClient: clients.authenticateClient,
      issueToken: async (grant) => ({
        access_token: await issueAccessToken(settings, { ...grant, ttlSeconds: deps.tokenTtlSeconds }),
        expires_in: deps.tokenTtlSeconds,
      }),
    }),
    verify: (authorization, tenantId) => verifyAccessToken(settings, authorization, tenantId),
    createClient: clients.createClient,
    ensureClient: clients.ensureClient,
  }
}
