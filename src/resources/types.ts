import type { Resource } from '@medplum/fhirtypes'

/** Who is writing or reading, as far as storage cares: the tenant. */
export interface RequestScope {
  readonly tenantId: string
}

/** A stored version: metadata plus the exact JSON text served on reads. */
export interface StoredResource {
  readonly resourceType: string
  readonly id: string
  readonly versionId: string
  readonly lastUpdated: string
  readonly deleted: boolean
  /** Exact JSON of the version ('' when deleted). */
  readonly json: string
}

export interface WriteResult {
  readonly stored: StoredResource
  /** True when the write created the resource (POST, or PUT of a new id). */
  readonly created: boolean
  /** The resource as written, parsed (avoids a re-parse by callers). */
  readonly resource?: Resource
}

export interface WriteOptions {
  /** Expected current versionId (If-Match / ifMatch); mismatch → precondition-failed. */
  readonly ifMatch?: string
}

export type HistoryMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface HistoryEntry extends StoredResource {
  readonly method: HistoryMethod
  readonly seq: string
}

export interface HistoryQuery {
  readonly resourceType?: string
  readonly id?: string
  /** Only versions with lastUpdated >= since (instant, inclusive). */
  readonly since?: Date
  /** Only versions current at some point in [at.start, at.end). */
  readonly at?: { start: Date; end: Date }
  readonly count: number
  /** Keyset: only entries with seq below this cursor. */
  readonly before?: string
}

export interface HistoryPage {
  readonly entries: readonly HistoryEntry[]
  /** Total number of versions matching (without paging). */
  readonly total: number
  /** Cursor for the next page, when there is one. */
  readonly next?: string
}

export interface SearchQuery {
  readonly resourceType: string
  readonly ids?: readonly string[]
  readonly lastUpdated?: readonly { op: 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb'; start: Date; end: Date }[]
  readonly count: number
  readonly offset: number
}

export interface SearchPage {
  readonly entries: readonly StoredResource[]
  readonly total: number
}

export interface Tenant {
  readonly tenantId: string
  readonly name: string
  readonly organizationId: string
}
