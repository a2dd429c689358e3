import type { Resource } from '@medplum/fhirtypes'
import type { FhirIssue } from '../errors.js'
import type { AccessPolicy } from './access-policy.js'
import type { SearchRequest } from './search/types.js'

/** Who is writing or reading, as far as storage cares: the tenant. */
export interface RequestScope {
  readonly tenantId: string
  /**
   * What this caller may see and write inside the tenant (patient compartment, granular
   * scopes), decided by src/auth and enforced by the guarded repository; absent = the whole tenant.
   */
  readonly access?: AccessPolicy
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
  /**
   * Total number of versions matching (without paging); absent on type/system history pages after
   * the first (history.ts), and under an access policy, where a count of hidden versions would tell
   * what the caller may not see.
   */
  readonly total?: number
  /** Cursor for the next page, when there is one. */
  readonly next?: string
}

/** A type search as the client sent it (https://hl7.org/fhir/R4/search.html). */
export interface SearchQuery {
  readonly resourceType: string
  /** Query parameters in the order given; a repeated name is AND, `,` inside a value is OR. */
  readonly params: readonly (readonly [string, string])[]
  /** `Prefer: handling=strict`: unknown parameters are an error instead of being ignored. */
  readonly strict?: boolean
  /**
   * Compartment search (`GET [base]/Patient/123/Observation?...`, https://hl7.org/fhir/R4/compartmentdefinition.html):
   * only resources in that compartment match, by any of the compartment definition's parameters for the type.
   */
  readonly compartment?: { readonly resourceType: string; readonly id: string }
}

/** A system-level search (`GET [base]?_type=A,B&...`): the common parameters over several (or all) types. */
export type SystemSearchQuery = Omit<SearchQuery, 'resourceType' | 'compartment'>

export interface SearchPage {
  /** The request as understood: the parameters used (for the self link) and those ignored. */
  readonly request: SearchRequest
  readonly entries: readonly StoredResource[]
  /** Resources added by `_include` / `_revinclude` (Bundle entries with search.mode `include`). */
  readonly included?: readonly StoredResource[]
  /** Warnings about the page (an include bound reached), sent as an OperationOutcome entry with search.mode `outcome`. */
  readonly issues?: readonly FhirIssue[]
  /** Per `_total`: exact by default, the planner's estimate, or absent for `_total=none`. */
  readonly total?: number
  /** Opaque `_cursor` values for the next and previous pages, when there are such pages. */
  readonly next?: string
  readonly previous?: string
}

export interface Tenant {
  readonly tenantId: string
  readonly name: string
  readonly organizationId: string
}
