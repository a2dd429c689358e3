import type { OperationOutcome, Resource } from '@medplum/fhirtypes'
import type { ExportReader, Repository, RequestScope } from '../resources/index.js'
import type { Jobs } from './jobs/runner.js'

export type OperationLevel = 'system' | 'type' | 'instance'

/** What an operation sees: never Fastify, only parsed input and the repository. */
export interface OperationContext {
  readonly repo: Repository
  readonly scope: RequestScope
  readonly level: OperationLevel
  readonly resourceType?: string
  readonly id?: string
  /** The request body (a resource or Parameters) for POST; undefined for GET. */
  readonly body: unknown
  /** Query parameters (GET operations carry their parameters here). */
  readonly query: Readonly<Record<string, string | string[] | undefined>>
  /** The async job service: long operations start a job and answer 202 (see ./jobs/index.ts, ./async.ts). */
  readonly jobs?: Jobs
  /** Who calls, as far as operations care (job ownership, patient tokens, type-level scopes). */
  readonly caller?: OperationCaller
  /** `[base]` of the tenant, for absolute URLs in results (`http://host/fhir/clinic`). */
  readonly baseUrl?: string
  /** The full request URL as the client sent it (Bulk Data manifests repeat it). */
  readonly requestUrl?: string
  /** Request headers by lower-case name (`prefer`, `accept`). */
  readonly headers?: Readonly<Record<string, string | undefined>>
  /** SQL helpers of src/resources that some operations need beyond the repository. */
  readonly stores?: OperationStores
}

/** Built once at the composition root (src/services.ts); add a member when an operation needs one. */
export interface OperationStores {
  /** Keyset batches for $export. */
  readonly exportReader: ExportReader
}

/** The caller of an operation, built by src/fhir from the access token. */
export interface OperationCaller {
  /** Names the token's client and user: an async job answers only the caller that started it. */
  readonly owner: string
  /** The patient of a patient-context token: only that patient's compartment is theirs to see. */
  readonly patient?: string
  /** Whether the token's scopes allow reading (or searching) resources of this type. */
  allowsType(resourceType: string, interaction: 'read' | 'search'): boolean
}

export interface OperationResult {
  readonly status: number
  readonly resource: Resource | OperationOutcome
  /** Extra response headers (`content-location` of an accepted async job). */
  readonly headers?: Readonly<Record<string, string>>
  /** The response body as JSON text, when the operation built it from stored JSON (sent instead of `resource`, keeping decimals as stored). */
  readonly json?: string
}

/** One operation (https://hl7.org/fhir/R4/operations.html), declared once and read by routes and the CapabilityStatement. */
export interface OperationDescriptor {
  readonly code: string
  readonly levels: readonly OperationLevel[]
  /** Resource types it applies to at type/instance level; undefined = all. */
  readonly resourceTypes?: readonly string[]
  /** false → also answers GET. */
  readonly affectsState: boolean
  /** Canonical URL of the OperationDefinition. */
  readonly definition: string
  /**
   * The operation checks the token's scopes per resource type itself (through
   * `OperationContext.caller`); otherwise the route requires an `operation` grant on the URL's type
   * (a `*` grant at system level) before calling `run`.
   */
  readonly checksScopes?: boolean
  run(ctx: OperationContext): Promise<OperationResult>
}
