/**
 * Search index extraction (https://hl7.org/fhir/R4/search.html): the SearchParameter registry and
 * resource → index rows. The rows are written by resource-store.ts in the same statement as the resource.
 */
export { r4SearchParamRegistry, SearchParamRegistry, type SearchParamDef, type SearchParamType, type TypeSearchParams, type CompositeComponent } from './registry.js'
export { extractIndexRows } from './extract.js'
export type { IndexContext } from './index-context.js'
export { IndexRows } from './rows.js'
