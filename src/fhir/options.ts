import type { Auth } from '../auth/index.js'
import type { Jobs, OperationStores } from '../operations/index.js'
import type { Repository, TenantStore } from '../resources/index.js'

/** What the FHIR plugin is given by the composition root. */
export interface FhirPluginOptions {
  repo: Repository
  tenants: TenantStore
  auth: Auth
  /** Public server URL without trailing slash. */
  serverUrl: string
  bodyLimit: number
  maxJsonDepth: number
  /** Most entries accepted in one batch/transaction Bundle (MAX_BUNDLE_ENTRIES; default 10,000). */
  maxBundleEntries?: number
  /** Async jobs ($export...): status polling, cancel and file routes under [base]/$job. */
  jobs?: Jobs
  /** SQL helpers handed to operations (OperationContext.stores). */
  operationStores?: OperationStores
}
