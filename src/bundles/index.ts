/**
 * Batch and transaction Bundles (https://hl7.org/fhir/R4/http.html#transaction): entry parsing,
 * processing order, `urn:uuid:`/conditional reference resolution and entry execution against a
 * Repository. Knows neither HTTP nor SQL; import this file, never a deep path.
 */
export { processBundle } from './run.js'
export type { BundleContext, BundleKind, BundleResult, EntryInteraction, EntryResult } from './types.js'
