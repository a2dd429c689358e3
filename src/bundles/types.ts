import type { Resource } from '@medplum/fhirtypes'
import type { FhirError } from '../errors.js'
import type { PatchDocument, Repository, RequestScope, SearchPage, StoredResource } from '../resources/index.js'

export type BundleKind = 'batch' | 'transaction'

/** The interactions an entry asks for, named as src/auth names them (http.html). */
export type EntryInteraction = 'create' | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'search'

/** What the engine is given per request; it never sees HTTP. */
export interface BundleContext {
  readonly repo: Repository
  readonly scope: RequestScope
  /** `[server]/fhir/{tenant}`: entry URLs may be absolute on this base. */
  readonly baseUrl: string
  /** More entries than this → `payload-too-large` (MAX_BUNDLE_ENTRIES). */
  readonly maxEntries: number
  /** Throws FhirError `forbidden` when the caller may not do `interaction` on `resourceType`. */
  authorize(resourceType: string, interaction: EntryInteraction): void
  /** A batch entry failed with something that is not a FhirError (a bug): log it. */
  onUnexpectedError?(error: unknown, entryIndex: number): void
}

/** Where an entry's request.url points (http.html#transaction: relative to the base). */
export type EntryTarget =
  | { readonly form: 'type'; readonly resourceType: string; readonly query?: string }
  | { readonly form: 'instance'; readonly resourceType: string; readonly id: string }
  | { readonly form: 'version'; readonly resourceType: string; readonly id: string; readonly versionId: string }

export type EntryMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** An entry whose shape was checked; nothing about the database is known yet. */
export interface ParsedEntry {
  readonly index: number
  readonly fullUrl?: string
  readonly method: EntryMethod
  readonly url: string
  readonly target: EntryTarget
  /** POST/PUT body. */
  readonly resource?: Resource
  /** PATCH body (FHIRPath Patch Parameters, or JSON Patch carried in a Binary). */
  readonly patch?: PatchDocument
  readonly ifMatch?: string
  readonly ifNoneExist?: string
  readonly ifNoneMatch?: string
  readonly ifModifiedSince?: string
}

/** An entry refused before anything ran (bad shape, unknown type). */
export interface RejectedEntry {
  readonly index: number
  readonly fullUrl?: string
  readonly error: FhirError
}

/** The outcome of one entry, in request order; the HTTP layer turns it into `Bundle.entry.response`. */
export type EntryResult =
  /** created: POST, or PUT of a new id; matched: ifNoneExist found the resource (200, nothing written). */
  | { readonly kind: 'created' | 'updated' | 'patched' | 'matched'; readonly stored: StoredResource }
  | { readonly kind: 'deleted'; readonly resourceType: string; readonly id?: string; readonly versionId?: string }
  | { readonly kind: 'read'; readonly stored: StoredResource; readonly notModified: boolean; readonly head: boolean }
  | { readonly kind: 'searched'; readonly resourceType: string; readonly url: string; readonly page: SearchPage; readonly count: number; readonly offset: number }
  | { readonly kind: 'failed'; readonly error: FhirError }

export interface BundleResult {
  readonly type: BundleKind
  readonly entries: readonly EntryResult[]
}
