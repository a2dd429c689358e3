import type { FastifyPluginAsync } from 'fastify'
import type { AccountStore, CredentialStore, GrantStore, MembershipRole, OAuthStore, Repository, TenantStore } from '../resources/index.js'
import type { AuthContext } from './access.js'
import { verifyAccessToken, type TokenSettings } from './access-token.js'
import { createAccounts, type Accounts } from './accounts.js'
import { accountRoutes } from './account-routes.js'
import { adminRoutes } from './admin-routes.js'
import { createAuditLog } from './audit.js'
import { authorizeRoutes } from './authorize-routes.js'
import { createClientAssertionVerifier } from './client-assertion.js'
import { createClientRegistry, type ClientRegistration } from './clients.js'
import { loadPatientCompartment } from './compartment.js'
import type { AuthLog } from './auth-log.js'
import type { AuthCore, AuthLifetimes } from './core.js'
import { endpointsOf, openidConfiguration, smartConfiguration, type OAuthEndpoints } from './discovery.js'
import { parseLoginName } from './login-names.js'
import { createMessenger, type MessagingSettings } from './messaging/index.js'
import { generateOpaqueToken } from './opaque-tokens.js'
import { createRefusalAudit, type RefusalRecord } from './refusal-audit.js'
import { REVOCATION_POLL_MS, RevokedTokens } from './revoked-tokens.js'
import { loadSearchParams } from './search-params.js'
import { loadSigningKeys, rotateSigningKeys } from './signing-keys.js'
import { tokenRoutes } from './token-route.js'
import { VerifiedTokens } from './verified-tokens.js'

export { assertAllowed } from './access.js'
export type { AuthContext, Interaction } from './access.js'
export { parseScopes } from './scopes.js'
export type { ScopeContext, ScopeGrant, ScopeLetter } from './scopes.js'
export type { ClientRegistration, ClientType } from './clients.js'
export type { MessagingSettings, GmailSettings, TwilioSettings } from './messaging/index.js'
export type { OAuthEndpoints } from './discovery.js'
export type { AuthLog } from './auth-log.js'
export type { RefusalRecord } from './refusal-audit.js'
export { isMembershipRole } from './roles.js'

/** The SMART on FHIR authorization server and token verifier of one Segimed FHIR process. */
export interface Auth {
  /**
   * Fastify plugin with every auth route, registered at the server root (outside the FHIR base):
   * /oauth2/token, /oauth2/introspect, /oauth2/revoke (RFC 6749/7662/7009, errors as RFC 6749
   * JSON), /oauth2/authorize (GET and POST) and the sign-in pages behind it, /oauth2/jwks,
   * /fhir/.well-known/smart-configuration (the all-clinic root), /account/forgot and
   * /account/reset, and the admin API at /admin/{tenant}/... (clients, memberships, launch).
   */
  routes: FastifyPluginAsync
  /**
   * Verifies `Authorization: Bearer <jwt>` for a request to tenant `tenantId` with what is held
   * in memory (keys, revocation deny-list; no database call). Throws FhirError `unauthorized`
   * (401, with WWW-Authenticate) for a missing, malformed, expired, revoked, badly signed,
   * non-ES256, foreign-issuer or other-tenant token. https://www.rfc-editor.org/rfc/rfc6750#section-3.1
   * The context's `access` carries the per-resource policy (patient compartment, granular scopes).
   */
  verify(authorization: string | undefined, tenantId: string): Promise<AuthContext>
  /**
   * Registers a confidential client (secret) of `tenantId` and returns its secret, the only
   * time it is visible (stored as a salted scrypt hash). Throws FhirError `invalid` for a bad
   * client_id or a secret under 16 characters and `conflict` when the client_id is taken.
   */
  createClient(tenantId: string, options: { name: string; scope: string; clientId?: string; clientSecret?: string }): Promise<{ client_id: string; client_secret: string }>
  /** Registers any SMART client type: public, confidential-symmetric, confidential-asymmetric (JWKS or jwks_uri). */
  registerClient(tenantId: string, registration: ClientRegistration): Promise<{ client_id: string; client_secret?: string }>
  /** For BOOTSTRAP_*: registers the client unless its client_id exists (idempotent). `conflict` if it is another tenant's. */
  ensureClient(tenantId: string, options: { clientId: string; clientSecret: string; name: string; scope: string }): Promise<void>
  /** Creates an account (email and/or phone, optional password) and returns its id. `invalid`, `conflict`. */
  createAccount(input: { email?: string; phone?: string; password?: string; otpRequired?: boolean }): Promise<{ account_id: string }>
  /** BOOTSTRAP_ADMIN_*: a super admin of `tenantId` with this email, created once (an existing account keeps its password). */
  ensureAdmin(tenantId: string, email: string, password: string): Promise<void>
  /** The account signing in with this email or phone, if any. */
  findAccountId(login: string): Promise<string | undefined>
  /** The tenant's memberships. */
  listMemberships(tenantId: string): Promise<{ account_id: string; role: string; fhir_user: string | null }[]>
  /** Gives an account a role and FHIR identity in a tenant (replacing an earlier one). */
  setMembership(tenantId: string, accountId: string, role: MembershipRole, fhirUser: string | null): Promise<void>
  /** SMART configuration for a FHIR base (https://hl7.org/fhir/smart-app-launch/STU2/conformance.html). */
  smartConfiguration(fhirBase: string): Record<string, unknown>
  /** OpenID Connect discovery for a FHIR base (the issuer of its id_tokens). */
  openidConfiguration(fhirBase: string): Record<string, unknown>
  /** The OAuth endpoints, for the CapabilityStatement's oauth-uris extension. */
  endpoints(fhirBase: string): OAuthEndpoints
  /**
   * Writes an AuditEvent (type rest, outcome 4 for 401, 8 for 403) in the tenant for a refused
   * FHIR request, rate-limited per client or address (AUDIT_REFUSALS_PER_MINUTE); never throws.
   */
  recordRefusal(record: RefusalRecord): Promise<void>
  /** Adds new signing keys; the previous ones keep verifying until the next rotation. */
  rotateSigningKeys(): Promise<string[]>
  /** Stops the background refresh of keys and revocations. */
  close(): void
}

export interface AuthDeps {
  store: OAuthStore
  grants: GrantStore
  accounts: AccountStore
  credentials: CredentialStore
  tenants: TenantStore
  /** Audit events and patient look-ups; the unguarded tenant scope is used. */
  repo: Repository
  issuer: string
  tokenTtlSeconds: number
  clock?: () => Date
  /** Signs cookies and peppers one-time codes; random per process when absent (development). */
  secret?: string
  isProduction?: boolean
  messaging?: MessagingSettings
  log?: AuthLog
  lifetimes?: Partial<AuthLifetimes>
  /** AuditEvents of refused FHIR requests per client or address per minute (default 20). */
  auditRefusalsPerMinute?: number
  /** One-time codes sent per account and per phone number per hour (default 5). */
  otpSendsPerHour?: number
}

const SILENT: AuthLog = { info: () => {}, warn: () => {} }

/**
 * Builds the `Auth` service: loads the signing keys (creating the first ones if there are none,
 * so every instance sharing the database signs and verifies alike), the revocation deny-list
 * and the FHIR definitions that access decisions use.
 */
export async function createAuth(deps: AuthDeps): Promise<Auth> {
  const clock = deps.clock ?? (() => new Date())
  const issuer = deps.issuer.replace(/\/+$/, '')
  const searchParams = loadSearchParams()
  const revoked = new RevokedTokens(deps.grants, clock)
  await revoked.refresh()
  const settings: TokenSettings = {
    keys: await loadSigningKeys(deps.store),
    issuer,
    clock,
    verified: new VerifiedTokens(),
    revoked,
    rules: { searchParams, compartment: loadPatientCompartment(searchParams) },
  }
  const log = deps.log ?? SILENT
  const registry = createClientRegistry(deps.store)
  const tokenUrl = `${issuer}/oauth2/token`
  const core: AuthCore = {
    settings,
    issuer,
    tokenUrl,
    clock,
    lifetimes: {
      accessToken: deps.tokenTtlSeconds,
      authorizationCode: 120,
      offlineRefresh: 30 * 24 * 3600,
      onlineRefresh: 12 * 3600,
      session: 12 * 3600,
      launchContext: 300,
      passwordReset: 30 * 60,
      ...deps.lifetimes,
    },
    limits: { otpSendsPerHour: deps.otpSendsPerHour ?? 5 },
    clients: deps.store,
    grants: deps.grants,
    accounts: deps.accounts,
    credentials: deps.credentials,
    tenants: deps.tenants,
    registry,
    verifyAssertion: createClientAssertionVerifier({ clients: deps.store, grants: deps.grants, tokenUrl, clock }),
    repo: deps.repo,
    audit: createAuditLog({ repo: deps.repo, clock, log }),
    messenger: createMessenger(deps.messaging ?? {}, log),
    secret: Buffer.from(deps.secret ?? generateOpaqueToken(32), 'utf8'),
    isProduction: deps.isProduction ?? false,
    log,
  }
  const accounts: Accounts = createAccounts(core)
  const refusals = createRefusalAudit({ repo: deps.repo, clock, log, perMinute: deps.auditRefusalsPerMinute ?? 20 })
  let ticks = 0
  const timer = setInterval(() => {
    ticks += 1
    // Keys change rarely: re-read them every 12 polls (a minute).
    const work = ticks % 12 === 0 ? Promise.all([revoked.refresh(), settings.keys.reload()]) : revoked.refresh()
    work.catch((err: unknown) => log.warn({ err }, 'could not refresh revocations or signing keys'))
  }, REVOCATION_POLL_MS)
  timer.unref()

  return {
    routes: async (app) => {
      await app.register(tokenRoutes(core))
      await app.register(authorizeRoutes(core, accounts))
      await app.register(adminRoutes(core, accounts))
      await app.register(accountRoutes(core, accounts))
      app.get('/oauth2/jwks', (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(settings.keys.jwks()))
      app.get('/fhir/.well-known/smart-configuration', (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(smartConfiguration(issuer, `${issuer}/fhir`)))
    },
    verify: (authorization, tenantId) => verifyAccessToken(settings, authorization, tenantId),
    async createClient(tenantId, options) {
      const created = await registry.registerClient(tenantId, { ...options, type: 'confidential-symmetric' })
      return { client_id: created.client_id, client_secret: created.client_secret ?? '' }
    },
    registerClient: registry.registerClient,
    ensureClient: registry.ensureClient,
    async createAccount(input) {
      const account = await accounts.createAccount(input)
      return { account_id: account.account_id }
    },
    async ensureAdmin(tenantId, email, password) {
      const existing = await deps.accounts.findAccountByLogin({ email: email.trim().toLowerCase() })
      const account = existing ?? (await accounts.createAccount({ email, password }))
      if (!(await deps.accounts.findMembership(tenantId, account.account_id))) {
        await deps.accounts.upsertMembership({ tenant_id: tenantId, account_id: account.account_id, role: 'super-admin', fhir_user: null })
      }
    },
    async findAccountId(login) {
      const name = parseLoginName(login)
      return name ? (await deps.accounts.findAccountByLogin(name))?.account_id : undefined
    },
    async listMemberships(tenantId) {
      return (await deps.accounts.listTenantMemberships(tenantId)).map((m) => ({ account_id: m.account_id, role: m.role, fhir_user: m.fhir_user }))
    },
    async setMembership(tenantId, accountId, role, fhirUser) {
      await deps.accounts.upsertMembership({ tenant_id: tenantId, account_id: accountId, role, fhir_user: fhirUser })
    },
    smartConfiguration: (fhirBase) => smartConfiguration(issuer, fhirBase),
    openidConfiguration: (fhirBase) => openidConfiguration(issuer, fhirBase),
    endpoints: (fhirBase) => endpointsOf(issuer, fhirBase),
    async rotateSigningKeys() {
      const kids = await rotateSigningKeys(deps.store)
      await settings.keys.reload()
      return kids
    },
    recordRefusal: (record) => refusals.record(record),
    close: () => clearInterval(timer),
  }
}
