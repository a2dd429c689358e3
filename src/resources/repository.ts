import type { Parameters, Resource } from '@medplum/fhirtypes'
import type { FhirIssue } from '../errors.js'
import type { EverythingPage, EverythingQuery } from './everything.js'
import type { BulkWriteItem, BulkWriteOptions, BulkWriteOutcome } from './bulk-types.js'
import type { SearchParamRegistry } from './indexing/registry.js'
import type { ReindexRequest, ReindexResult } from './reindex.js'
import type {
  HistoryPage,
  HistoryQuery,
  RequestScope,
  SearchPage,
  SearchQuery,
  SystemSearchQuery,
  StoredResource,
  WriteOptions,
  WriteResult,
} from './types.js'

/** What one conditional write locks: its type, its criteria and the resource it would write (if any). */
export interface ConditionalLockTarget {
  readonly resourceType: string
  readonly criteria: readonly (readonly [string, string])[]
  readonly resource?: Resource
}

export type PatchDocument =
  | { readonly kind: 'json-patch'; readonly operations: unknown }
  | { readonly kind: 'fhirpath-patch'; readonly parameters: Parameters }

/**
 * The FHIR resource repository (https://hl7.org/fhir/R4/http.html). Every write is validated
 * and atomic (current row + history together). Errors are FhirError kinds: `invalid`,
 * `not-found`, `gone`, `precondition-failed`, `conflict`, `unprocessable`.
 */
export interface Repository {
  /**
   * create — http.html#create. The id in the body is ignored; the server assigns one, or takes
   * `options.id` (a server-side caller that chose the id first: transaction Bundles resolve
   * `urn:uuid:` references before writing). `conflict` if that id exists.
   */
  create(scope: RequestScope, resource: Resource, options?: { readonly id?: string }): Promise<WriteResult>
  /** read — http.html#read. not-found for an unknown id, gone for a deleted one. */
  read(scope: RequestScope, resourceType: string, id: string): Promise<StoredResource>
  /** vread — http.html#vread. */
  vread(scope: RequestScope, resourceType: string, id: string, versionId: string): Promise<StoredResource>
  /** update — http.html#update, including update-as-create for a new client-chosen id. */
  update(scope: RequestScope, resource: Resource, options?: WriteOptions): Promise<WriteResult>
  /** patch — http.html#patch, with JSON Patch or FHIRPath Patch. */
  patch(scope: RequestScope, resourceType: string, id: string, patch: PatchDocument, options?: WriteOptions): Promise<WriteResult>
  /** delete — http.html#delete. Returns the deleting version, or undefined when there was nothing to delete. */
  delete(scope: RequestScope, resourceType: string, id: string, options?: WriteOptions): Promise<{ versionId?: string }>
  /** history — http.html#history, at instance, type or system level. */
  history(scope: RequestScope, query: HistoryQuery): Promise<HistoryPage>
  /**
   * search — https://hl7.org/fhir/R4/search.html, type level: every R4 search parameter of the
   * type with its modifiers and prefixes, `_sort`, `_count`, `_total`, `_summary=count` and keyset
   * paging by `_cursor`. `invalid` for a malformed value (naming the parameter), an unsupported
   * modifier, or, with `strict`, an unknown parameter; `not-found` for an unknown type.
   */
  search(scope: RequestScope, query: SearchQuery): Promise<SearchPage>
  /** search, system level — `GET [base]?_type=...`: entries of several types, the common parameters only. */
  searchSystem(scope: RequestScope, query: SystemSearchQuery): Promise<SearchPage>
  /**
   * The contents of Patient or Encounter compartments, one keyset page at a time, with the resources
   * outside the compartment they refer to (https://hl7.org/fhir/R4/patient-operation-everything.html):
   * `$everything` and `[base]/Patient/{id}/*`. `invalid` for a malformed `_cursor`.
   */
  everything(scope: RequestScope, query: EverythingQuery): Promise<EverythingPage>
  /**
   * Runs `fn` with a repository whose every call is part of ONE database transaction: committed
   * when `fn` resolves, rolled back when it throws (http.html#transaction). A deadlock or
   * serialization failure re-runs `fn` (so it must start from scratch each call), then `conflict`.
   */
  transaction<T>(scope: RequestScope, fn: (repo: Repository) => Promise<T>): Promise<T>
  /**
   * The lock of conditional interactions (http.html#ccreate, #cond-update, #cdelete; the rule is in
   * conditional.ts): inside `transaction()`, takes transaction-scoped locks keyed by each target's
   * criteria and by its resource's identifier values, so a concurrent conditional write of the
   * same thing waits until this transaction ends and then sees what it wrote. Several targets are
   * locked in one sorted order (a transaction Bundle can lock all its conditional entries at once,
   * so two Bundles never deadlock on them). True when the locks are held; false outside a
   * transaction, where nothing can be held (a search then may be stale by the time of the write).
   * conditional-interactions.ts builds the conditional interactions on it.
   */
  lockConditional(scope: RequestScope, targets: readonly ConditionalLockTarget[]): Promise<boolean>
  /** The checks every write runs, as a list of issues ($validate). */
  validate(resource: unknown): FhirIssue[]
  /**
   * Bulk write (transaction Bundles, $import): many creates/updates in a few multi-row statements
   * per 500 resources, each item validated and indexed like create/update. Returns one outcome per
   * item, in order; a failed item (invalid, bad id, If-Match mismatch, `conflict`, several
   * identifier matches) writes nothing and does not stop the others. Not atomic by itself: run it
   * inside `transaction` for all-or-nothing.
   */
  writeMany(scope: RequestScope, items: readonly BulkWriteItem[], options?: BulkWriteOptions): Promise<BulkWriteOutcome[]>
  /**
   * The search parameters in force for the scope's tenant: the R4 ones plus the tenant's own
   * SearchParameter resources with status active or draft (https://hl7.org/fhir/R4/searchparameter.html).
   */
  searchParams(scope: RequestScope): Promise<SearchParamRegistry>
  /**
   * The $reindex engine (reindex.ts): recomputes the index rows of the tenant's current resources
   * (of `request.types`, or all) with the parameters in force, in keyset batches, reporting
   * progress and stopping when `request.signal` aborts. Concurrent writes keep their own rows.
   * `forbidden` for a caller limited to part of the tenant.
   */
  reindex(scope: RequestScope, request: ReindexRequest): Promise<ReindexResult>
}
