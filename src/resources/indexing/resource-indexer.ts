import type { Resource } from '@medplum/fhirtypes'
import { extractIndexRows } from './extract.js'
import type { SearchParamRegistry } from './registry.js'
import type { IndexRows } from './rows.js'

/** What the repository's write and search paths share: the parameters in force and the server's base. */
export interface SearchConfig {
  readonly registry: SearchParamRegistry
  /** Public server URL without trailing slash; references under `${serverUrl}/fhir/{tenant}/` are local. */
  readonly serverUrl?: string
}

export function localBaseOf(config: SearchConfig, tenantId: string): string | undefined {
  return config.serverUrl ? `${config.serverUrl}/fhir/${tenantId}/` : undefined
}

/** The index rows of a resource version about to be written. */
export function indexRowsFor(config: SearchConfig, tenantId: string, resource: Resource): IndexRows {
  return extractIndexRows(config.registry.forType(resource.resourceType), resource, { localBase: localBaseOf(config, tenantId) })
}
