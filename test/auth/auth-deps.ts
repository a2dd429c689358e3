import type { Kysely } from 'kysely'
import type { AuthDeps } from '../../src/auth/index.js'
import type { Database } from '../../src/db/database.js'
import {
  createAccountStore,
  createCredentialStore,
  createGrantStore,
  createOAuthStore,
  createPgRepository,
  createTenantStore,
  guardRepository,
} from '../../src/resources/index.js'

/** Everything createAuth needs on a test database; override any part. */
export function authDeps(db: Kysely<Database>, overrides: Partial<AuthDeps> & Pick<AuthDeps, 'issuer' | 'tokenTtlSeconds'>): AuthDeps {
  const repo = guardRepository(createPgRepository({ db, clock: overrides.clock, serverUrl: overrides.issuer }))
  return {
    store: createOAuthStore(db),
    grants: createGrantStore(db),
    accounts: createAccountStore(db),
    credentials: createCredentialStore(db),
    tenants: createTenantStore(db, repo),
    repo,
    ...overrides,
  }
}
