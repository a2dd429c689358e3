import type { LogEvent } from 'kysely'
import { createAuth, type Auth } from './auth/index.js'
import type { Config } from './config.js'
import { createDb, type Db } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import {
  createOAuthStore,
  createPgRepository,
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
  close(): Promise<void>
}

export interface ServiceOptions {
  /** Apply pending migrations first (the server and CLI do; tests migrate once in global setup). */
  migrate?: boolean
  onQuery?: (event: LogEvent) => void
  clock?: () => Date
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  loadFhirDefinitions()
  const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, onQuery: options.onQuery })
  try {
    if (options.migrate) await migrateToLatest(db.db)
    const repo = createPgRepository({ db: db.db, clock: options.clock })
    const tenants = createTenantStore(db.db, repo)
    const auth = await createAuth({ store: createOAuthStore(db.db), issuer: config.baseUrl, tokenTtlSeconds: config.tokenTtlSeconds, clock: options.clock })
    if (config.bootstrapTenant && config.bootstrapClientId && config.bootstrapClientSecret) {
      await tenants.ensure(config.bootstrapTenant, config.bootstrapTenant)
      await auth.ensureClient(config.bootstrapTenant, {
        clientId: config.bootstrapClientId,
        clientSecret: config.bootstrapClientSecret,
        name: 'bootstrap',
        scope: 'system/*.*',
      })
    }
    return { db, repo, tenants, auth, close: () => db.close() }
  } catch (e) {
    await db.close()
    throw e
  }
}
