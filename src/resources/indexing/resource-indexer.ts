import type { Resource, SearchParameter } from '@medplum/fhirtypes'
import { extractIndexRows } from './extract.js'
import type { SearchParamRegistry } from './registry.js'
import type { IndexRows } from './rows.js'
import { checkSearchParameter } from './search-param-check.js'
import type { TenantSearchParams } from './tenant-params.js'

/** What the repository's write and search paths share: the parameters in force and the server's base. */
export interface SearchConfig {
  /** The parameters in force: the base registry, or a tenant's once resolved (pg-repository.ts `searchFor`). */
  readonly registry: SearchParamRegistry
  /** Per-tenant registries (the base one extended by each tenant's SearchParameter resources). */
  readonly tenantParams?: TenantSearchParams
  /** Public server URL without trailing slash; references under `${serverUrl}/fhir/{tenant}/` are local. */
  readonly serverUrl?: string
}

export function localBaseOf(config: SearchConfig, tenantId: string): string | undefined {
  return config.serverUrl ? `${config.serverUrl}/fhir/${tenantId}/` : undefined
}

/**
 * The index rows of a resource version about to be written. A SearchParameter is checked here
 * (search-param-check.ts) because every write path indexes what it writes: a definition the
 * tenant's registry could not use is refused (`invalid`) on create, update, patch and bulk alike.
 */
export function indexRowsFor(config: SearchConfig, tenantId: string, resource: Resource): IndexRows {
  if (resource.resourceType === 'SearchParameter') checkSearchParameter(resource as SearchParameter, config.registry)
  return extractIndexRows(config.registry.forType(resource.resourceType), resource, { localBase: localBaseOf(config, tenantId), registry: config.registry })
}
