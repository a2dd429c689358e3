import type { Resource } from '@medplum/fhirtypes'
import type { FhirError } from '../errors.js'
import type { StoredResource } from './types.js'

/** One resource for `Repository.writeMany`, with how its identity is decided. */
export type BulkWriteItem =
  /** A new resource: with `id` when the caller chose it first (transaction `urn:uuid:` resolution), else a new one. `conflict` if the id is taken. */
  | { readonly mode: 'create'; readonly resource: Resource; readonly id?: string }
  /** update, or update-as-create, of `resource.id` (http.html#update); `ifMatch` pins the current version. */
  | { readonly mode: 'put'; readonly resource: Resource; readonly ifMatch?: string }
  /**
   * The import rule: the resource of the same type carrying the first identifier's system|value
   * is updated (several → `precondition-failed`); without a match, `resource.id` is written as
   * update-as-create when present, else a new resource is created.
   */
  | { readonly mode: 'identifier'; readonly resource: Resource }

export interface BulkWriteOptions {
  /** Leave a resource whose content equals its current version untouched (no new version): re-imports are no-ops. */
  readonly skipUnchanged?: boolean
  /**
   * Refresh the planner statistics of `resource` and `search_token` first (ANALYZE). A bulk load
   * outruns autovacuum; with statistics that still call the tenant's rows rare, PostgreSQL probes
   * identifiers through the wrong index and each probe scans the tenant's rows of the type. The
   * import engine asks for it when its line count doubles (10k, 20k, 40k...).
   */
  readonly analyze?: boolean
}

/** What became of one item, in item order. A failed item wrote nothing; the others are unaffected. */
export type BulkWriteOutcome =
  | { readonly status: 'created' | 'updated' | 'unchanged'; readonly stored: StoredResource; readonly resource?: Resource }
  | { readonly status: 'failed'; readonly error: FhirError }
