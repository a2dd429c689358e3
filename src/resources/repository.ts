import type { Parameters, Resource } from '@medplum/fhirtypes'
import type { FhirIssue } from '../errors.js'
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
   * Runs `fn` with a repository whose every call is part of ONE database transaction: committed
   * when `fn` resolves, rolled back when it throws (http.html#transaction). A deadlock or
   * serialization failure re-runs `fn` (so it must start from scratch each call), then `conflict`.
   */
  transaction<T>(scope: RequestScope, fn: (repo: Repository) => Promise<T>): Promise<T>
  /** The checks every write runs, as a list of issues ($validate). */
  validate(resource: unknown): FhirIssue[]
}
