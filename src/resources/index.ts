/**
 * The repository layer's public surface: storage of FHIR resources per tenant, tenants and
 * OAuth clients. Knows SQL, knows nothing of HTTP. Import this file, never a deep path.
 */
export type { PatchDocument, Repository } from './repository.js'
export type {
  HistoryEntry,
  HistoryMethod,
  HistoryPage,
  HistoryQuery,
  RequestScope,
  SearchPage,
  SearchQuery,
  StoredResource,
  Tenant,
  WriteOptions,
  WriteResult,
} from './types.js'
/** Builds the PostgreSQL repository (create/read/vread/update/patch/delete/history/search). */
export { createPgRepository, type RepositoryDeps } from './pg-repository.js'
/** Tenants: find (cached), ensure (tenant row + its Organization), list. */
export { createTenantStore, TENANT_SLUG, type TenantStore } from './tenants.js'
/** OAuth clients and signing keys (SQL for src/auth). */
export { createOAuthStore, type OAuthStore, type OAuthClient, type NewOAuthClient, type SigningKey, type NewSigningKey } from './oauth-store.js'
/** R4 definitions: resource type list and the validator every write runs. */
export { loadFhirDefinitions, R4_RESOURCE_TYPES, isResourceType, validateResource } from './validation/index.js'
/** FHIR date values as precision ranges (for _since, _at, _lastUpdated). */
export { parseDateRange, type DateRange } from './dates.js'
