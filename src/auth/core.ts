import type { AccountStore, CredentialStore, GrantStore, OAuthStore, Repository, TenantStore } from '../resources/index.js'
import type { TokenSettings } from './access-token.js'
import type { AuditLog } from './audit.js'
import type { AuthLog } from './auth-log.js'
import type { ClientRegistry } from './clients.js'
import type { Messenger } from './messaging/index.js'
import type { OAuthClient } from '../resources/index.js'

/** Lifetimes, in seconds. */
export interface AuthLifetimes {
  accessToken: number
  authorizationCode: number
  /** offline_access: each rotation extends it by this much. */
  offlineRefresh: number
  /** online_access: the sign-in's lifetime; rotation never extends it. */
  onlineRefresh: number
  /** The browser sign-in session. */
  session: number
  launchContext: number
  passwordReset: number
}

/** Sending limits. */
export interface AuthLimits {
  /** One-time codes per account and per destination per hour. */
  otpSendsPerHour: number
}


/**
 * Everything the authorization server's routes share, built once in createAuth: stores,
 * token settings, lifetimes and the secret that signs cookies and peppers one-time codes.
 */
export type { AuthLog }

export interface AuthCore {
  settings: TokenSettings
  /** The server's public URL, no trailing slash (the access-token issuer). */
  issuer: string
  tokenUrl: string
  clock: () => Date
  lifetimes: AuthLifetimes
  limits: AuthLimits
  clients: OAuthStore
  grants: GrantStore
  accounts: AccountStore
  credentials: CredentialStore
  tenants: TenantStore
  registry: ClientRegistry
  verifyAssertion(assertion: string, claimedClientId: string | undefined): Promise<OAuthClient>
  repo: Repository
  audit: AuditLog
  messenger: Messenger
  secret: Buffer
  /** Production: cookies are Secure. */
  isProduction: boolean
  log: AuthLog
}
