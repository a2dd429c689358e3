/**
 * The repository layer's public surface: storage of FHIR resources per tenant, tenants and
 * OAuth clients. Knows SQL, knows nothing of HTTP. Import this file, never a deep path.
 */
export type { ConditionalLockTarget, PatchDocument, Repository } from './repository.js'
/** `$everything` and `[base]/Patient/{id}/*`: one page of a Patient or Encounter compartment (Repository.everything). */
export type { EverythingCompartment, EverythingPage, EverythingQuery } from './everything.js'
/** Conditional create/update/patch/delete (http.html#ccreate, #cond-update, #cdelete), locked against concurrent duplicates. */
export {
  conditionalCreate,
  conditionalDelete,
  conditionalPatch,
  conditionalUpdate,
  isLive,
  matchConditional,
  parseCriteria,
  MAX_CONDITIONAL_DELETE,
  type ConditionalDeleteResult,
  type ConditionalWriteResult,
  type Criteria,
} from './conditional-interactions.js'
/** Bulk writes (Repository.writeMany): transaction Bundles and $import. */
export type { BulkWriteItem, BulkWriteOptions, BulkWriteOutcome } from './bulk-types.js'
export { BULK_BATCH_SIZE } from './bulk-write.js'
export type {
  HistoryEntry,
  HistoryMethod,
  HistoryPage,
  HistoryQuery,
  RequestScope,
  SearchPage,
  SearchQuery,
  SystemSearchQuery,
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
/** Per-resource access limits (patient compartment, granular scopes) and the repository wrapper that enforces them. */
export type { AccessInteraction, AccessPolicy, SearchRestriction } from './access-policy.js'
export { guardRepository } from './guarded-repository.js'
/** SMART authorization server storage (SQL for src/auth): accounts, memberships, credentials, grants. */
export {
  createAccountStore,
  type Account,
  type AccountStore,
  type Membership,
  type MembershipRole,
  type MembershipWithTenant,
  type NewAccount,
} from './account-store.js'
export { createCredentialStore, type CredentialStore, type LockoutRule, type NewOneTimeCode, type OneTimeCode } from './credential-store.js'
export {
  createGrantStore,
  type AuthorizationCode,
  type CodeRedemption,
  type GrantStore,
  type LaunchContext,
  type NewAuthorizationCode,
  type NewLaunchContext,
  type NewRefreshToken,
  type RefreshRotation,
  type RefreshToken,
} from './grant-store.js'
/** R4 definitions: resource type list and the validator every write runs. */
export { loadFhirDefinitions, R4_RESOURCE_TYPES, isResourceType, validateResource } from './validation/index.js'
/** The parsed form of a search (what SearchPage.request holds) and the page size limits. */
export type { SearchRequest, SearchClause, SortSpec, TotalMode } from './search/index.js'
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './search/index.js'
/** The search parameters of a resource type (for the CapabilityStatement). */
export { r4SearchParamRegistry, type SearchParamDef, type SearchParamRegistry, type TypeSearchParams } from './indexing/index.js'
/** FHIR date values as precision ranges (for _since, _at, _lastUpdated). */
export { parseDateRange, type DateRange } from './dates.js'
/** Decimal precision: the HTTP layer attaches a body's original number texts; writes keep them. */
export { attachNumberText, numberTextOf } from './number-text.js'
/** Asynchronous job rows (src/operations/jobs) and the streaming reads of Bulk Data $export. */
export { createJobStore, type JobStore, type JobRecord, type JobProgress, type JobEnd, type JobStatusCode } from './jobs-store.js'
export { createExportReader, type ExportReader, type ExportBatch, type ExportBatchQuery, type ExportRow } from './export-reader.js'
/** $reindex: what to walk and what it reports (Repository.reindex). */
export type { ReindexRequest, ReindexProgress, ReindexResult } from './reindex.js'
export { newResourceId } from './resource-id.js'
