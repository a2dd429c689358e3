import type { FhirIssue } from '../../errors.js'
import type { RequiredBinding } from './type-plans.js'
import { hasCode } from './value-set-expansion.js'
import type { ExpandedValueSet } from './value-set-expansion.js'

/** How many codes of the ValueSet a diagnostic lists before "…". */
const MAX_CODES_IN_MESSAGE = 12

type JsonObject = Record<string, unknown>

/**
 * Checks one value against a required binding (https://hl7.org/fhir/R4/terminologies.html#required),
 * which @medplum/core does not do. Values of the wrong JSON shape are left to the shape check.
 */
export function checkBinding(value: unknown, binding: RequiredBinding, path: string, issues: FhirIssue[]): void {
  const { valueSet } = binding
  switch (binding.kind) {
    case 'code':
      if (typeof value === 'string' && !hasCode(valueSet, undefined, value)) {
        issues.push(codeIssue(`Value "${value}" is not allowed`, valueSet, path))
      }
      return
    case 'Coding':
      if (isJsonObject(value) && !isCodingAccepted(value, valueSet)) {
        issues.push(codeIssue(`Coding ${describeCoding(value)} is not allowed`, valueSet, path))
      }
      return
    case 'CodeableConcept':
      checkCodeableConcept(value, valueSet, path, issues)
  }
}

/**
 * A required binding on a CodeableConcept needs one coding from the ValueSet. A concept whose
 * codings all come from other systems (or that carries only `text`) is accepted: rejecting it
 * would refuse translations the ValueSet simply does not list, which is not what "cannot check" means.
 */
function checkCodeableConcept(value: unknown, valueSet: ExpandedValueSet, path: string, issues: FhirIssue[]): void {
  if (!isJsonObject(value) || !Array.isArray(value.coding)) return
  const codings = value.coding.filter(isJsonObject)
  const inScope = codings.filter((c) => typeof c.system === 'string' && valueSet.codesBySystem.has(c.system))
  if (inScope.length === 0 || inScope.some((c) => isCodingAccepted(c, valueSet))) return
  const described = inScope.map(describeCoding).join(', ')
  issues.push(codeIssue(`None of the codings (${described}) is allowed`, valueSet, `${path}.coding`))
}

function isCodingAccepted(coding: JsonObject, valueSet: ExpandedValueSet): boolean {
  if (typeof coding.code !== 'string') return true // only `display` or extensions: nothing to check
  const system = typeof coding.system === 'string' ? coding.system : undefined
  return hasCode(valueSet, system, coding.code)
}

function codeIssue(problem: string, valueSet: ExpandedValueSet, path: string): FhirIssue {
  return {
    severity: 'error',
    code: 'code-invalid',
    diagnostics: `${problem} at ${path}: it must come from the required ValueSet ${valueSet.url}; use one of ${listCodes(valueSet)}`,
    expression: [path],
  }
}

function listCodes(valueSet: ExpandedValueSet): string {
  const codes = [...valueSet.allCodes]
  const shown = codes.slice(0, MAX_CODES_IN_MESSAGE).join(', ')
  return codes.length > MAX_CODES_IN_MESSAGE ? `${shown}, … (${codes.length} codes)` : shown
}

function describeCoding(coding: JsonObject): string {
  return `${typeof coding.system === 'string' ? coding.system : '(no system)'}|${String(coding.code)}`
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
