import type { LogEvent } from 'kysely'
import { pino } from 'pino'
import { createAuth, type Auth, type AuthLog, type MessagingSettings } from './auth/index.js'
import type { Config } from './config.js'
import { createDb, type Db } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { createBulkFileStore, createJobs, type Jobs, type OperationStores } from './operations/index.js'
import {
  createAccountStore,
  createCredentialStore,
  createGrantStore,
  createJobStore,
  createExportReader,
  createOAuthStore,
  createPgRepository,
  guardRepository,
  createTenantStore,
  loadFhirDefinitions,
  type Repository,
  type TenantStore,
} from './resources/index.js'

/** Everything the HTTP app and the CLI need, built once from the config (the composition root). */
export interface Services {
  db: Db
  repo: Repository
  tenants: TenantStore
  auth: Auth
  /** Async jobs ($export, $import, $reindex) and their bulk files. */
  jobs: Jobs
  /** SQL helpers operations use beyond the repository ($export's keyset reader). */
  operationStores: OperationStores
  close(): Promise<void>
}

export interface ServiceOptions {
  /** Apply pending migrations first (the server and CLI do; tests migrate once in global setup). */
  migrate?: boolean
  onQuery?: (event: LogEvent) => void
  clock?: () => Date
  /** Where auth writes what it cannot send (one-time codes without Twilio/Gmail credentials). */
  log?: AuthLog
  /** False: writes carry no search index rows (bench/server-unindexed.ts measures what indexing costs). */
  indexing?: boolean
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  loadFhirDefinitions()
  // Embedded PGlite is ONE backend session behind pglite-socket, which interleaves the extended-protocol
  // messages (Parse/Bind/Execute) of concurrent connections: a second pooled connection makes a Bind
  // land on another connection's statement ("bind message supplies 14 parameters, but prepared
  // statement "" requires 3"). One connection serialises queries in the pg pool instead.
  const poolSize = config.databaseUrl ? config.dbPoolSize : 1
  const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize, onQuery: options.onQuery })
  try {
    if (options.migrate) await migrateToLatest(db.db)
    // Every caller goes through the guard; a scope without an access policy passes straight through.
    const repo = guardRepository(createPgRepository({ db: db.db, clock: options.clock, serverUrl: config.baseUrl, searchParamRefreshMs: config.searchParamRefreshMs, indexing: options.indexing }))
    const tenants = createTenantStore(db.db, repo)
    const auth = await createAuth({
      store: createOAuthStore(db.db),
      grants: createGrantStore(db.db),
      accounts: createAccountStore(db.db),
      credentials: createCredentialStore(db.db),
      tenants,
      repo,
      issuer: config.baseUrl,
      tokenTtlSeconds: config.tokenTtlSeconds,
      clock: options.clock,
      secret: config.authSecret,
      isProduction: config.environment === 'production',
      messaging: messagingOf(config),
      auditRefusalsPerMinute: config.auditRefusalsPerMinute,
      otpSendsPerHour: config.otpSendsPerHour,
      log: options.log ?? pino({ level: config.logLevel }),
    })
    if (config.bootstrapTenant && config.bootstrapClientId && config.bootstrapClientSecret) {
      await tenants.ensure(config.bootstrapTenant, config.bootstrapTenant)
      await auth.ensureClient(config.bootstrapTenant, {
        clientId: config.bootstrapClientId,
        clientSecret: config.bootstrapClientSecret,
        name: 'bootstrap',
        scope: 'system/*.*',
      })
    }
    if (config.bootstrapTenant && config.bootstrapAdminEmail && config.bootstrapAdminPassword) {
      await auth.ensureAdmin(config.bootstrapTenant, config.bootstrapAdminEmail, config.bootstrapAdminPassword)
    }
    const jobLog = pino({ level: config.logLevel })
    const jobs = createJobs({
      store: createJobStore(db.db),
      files: createBulkFileStore(config.bulkDir),
      clock: options.clock,
      log: { error: (object, message) => jobLog.error(object, message) },
      minPollIntervalMs: config.jobMinPollMs,
      concurrency: config.jobConcurrency,
    })
    return {
      db,
      repo,
      tenants,
      auth,
      jobs,
      operationStores: { exportReader: createExportReader(db.db) },
      close: async () => {
        auth.close()
        // Running jobs stop (and are marked failed) before the database they write to closes.
        await jobs.close()
        await db.close()
      },
    }
  } catch (e) {
    await db.close()
    throw e
  }
}

function messagingOf(config: Config): MessagingSettings {
  const { twilioAccountSid, twilioAuthToken, twilioSmsFrom, gmailClientId, gmailClientSecret, gmailRefreshToken, gmailSender } = config
  return {
    ...(twilioAccountSid && twilioAuthToken && twilioSmsFrom
      ? { twilio: { accountSid: twilioAccountSid, authToken: twilioAuthToken, smsFrom: twilioSmsFrom, whatsappFrom: config.twilioWhatsappFrom, apiUrl: config.twilioApiUrl } }
      : {}),
    ...(gmailClientId && gmailClientSecret && gmailRefreshToken && gmailSender
      ? { gmail: { clientId: gmailClientId, clientSecret: gmailClientSecret, refreshToken: gmailRefreshToken, sender: gmailSender, apiUrl: config.gmailApiUrl, tokenUrl: config.gmailTokenUrl } }
      : {}),
  }
}
