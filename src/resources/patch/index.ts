/**
 * The two PATCH body formats of http://hl7.org/fhir/R4/http.html#patch, as pure functions
 * on resources. Neither validates the result against StructureDefinitions, and neither
 * touches `meta`: the repository does both.
 */
import type { Parameters, Resource } from '@medplum/fhirtypes'
import { applyFhirPathPatch as applyFhirPath } from './fhirpath-patch.js'
import { applyJsonPatch as applyJson } from './json-patch.js'

/**
 * JSON Patch (RFC 6902), http://hl7.org/fhir/R4/http.html#patch. Returns a NEW resource;
 * the input is untouched.
 * @throws FhirError 'invalid' for a malformed patch document (not an array, unknown op,
 *   missing path/from/value, bad JSON Pointer, a move into its own child).
 * @throws FhirError 'unprocessable' when an operation cannot apply (path not found, index
 *   out of range, failed `test`) or the result changes `resourceType` or `id`.
 *   Diagnostics name the operation index and path.
 */
export function applyJsonPatch(resource: Resource, patch: unknown): Resource {
  return applyJson(resource, patch)
}

/**
 * FHIRPath Patch, http://hl7.org/fhir/R4/fhirpatch.html: a Parameters resource whose
 * `operation` parameters (type add | insert | delete | replace | move, with path, name,
 * value, index, source, destination parts) are applied in order. Values may be any
 * value[x], a `resource`, or nested `part`s building a complex element. Returns a NEW
 * resource; the input is untouched. Elements left empty are removed (FHIR JSON has no
 * empty objects or arrays). Indexes the R4 base StructureDefinitions into @medplum/core
 * on first use if nothing has.
 * @throws FhirError 'invalid' for a malformed Parameters (wrong shape, unknown type or
 *   part, missing part, unparseable path, a path using functions that compute values).
 * @throws FhirError 'unprocessable' when a path matches nothing or several elements where
 *   exactly one is required (delete of nothing is a no-op), an index is out of range,
 *   `add` targets a single element that already has a value, an element name is unknown
 *   for its type, or the result changes `resourceType` or `id`. Diagnostics name the
 *   operation index, type and path; `expression` points at `Parameters.parameter[i]`.
 */
export function applyFhirPathPatch(resource: Resource, patch: Parameters): Resource {
  return applyFhirPath(resource, patch)
}
