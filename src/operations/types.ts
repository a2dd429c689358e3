import type { OperationOutcome, Resource } from '@medplum/fhirtypes'
import type { Repository, RequestScope } from '../resources/index.js'

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
}

export interface OperationResult {
  readonly status: number
  readonly resource: Resource | OperationOutcome
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
  run(ctx: OperationContext): Promise<OperationResult>
}
