import type { Resource, SearchParameter } from '@medplum/fhirtypes'
import { extractIndexRows } from './extract.js'
import type { SearchParamRegistry } from './registry.js'
import { IndexRows } from './rows.js'
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
  /**
   * False: writes carry no index rows, so searches miss them. Only for measuring what indexing
   * costs (bench/server-unindexed.ts); no setting of the server turns it off.
   */
  readonly indexing?: boolean
  /** How many ids a chain's or `_has`'s page may sort before fetching (search/ids-first.ts; 30,000 unless set, tests set less). */
  readonly idsFirstLimit?: number
  /** From how many inner matches a `_has` page walks its targets in id order first (search/has-walk.ts; 2,000 unless set). */
  readonly hasWalkFrom?: number
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
  if (config.indexing === false) return new IndexRows()
  if (resource.resourceType === 'SearchParameter') checkSearchParameter(resource as SearchParameter, config.registry)
  return extractIndexRows(config.registry.forType(resource.resourceType), resource, { localBase: localBaseOf(config, tenantId), registry: config.registry })
}
