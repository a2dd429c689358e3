import type { FhirIssue } from '../../errors.js'
import { hasCode } from './value-set-expansion.js'
import type { ExpandedValueSet } from './value-set-expansion.js'

/** A required binding that can be checked: the element's datatype and the expanded ValueSet. */
export interface RequiredBinding {
  readonly kind: 'code' | 'Coding' | 'CodeableConcept'
  readonly valueSet: ExpandedValueSet
}

/** What is wrong with a bound value; `atCoding` when the issue points at the concept's `coding`. */
export interface BindingProblem {
  readonly text: string
  readonly atCoding: boolean
}

/** How many codes of the ValueSet a diagnostic lists before "…". */
const MAX_CODES_IN_MESSAGE = 12

type JsonObject = Record<string, unknown>

/**
 * Checks one value against a required binding (https://hl7.org/fhir/R4/terminologies.html#required),
 * which @medplum/core does not do. Values of the wrong JSON shape are left to the shape checks.
 * Allocates nothing when the value is accepted.
 */
export function bindingProblem(value: unknown, binding: RequiredBinding): BindingProblem | undefined {
  const { valueSet } = binding
  switch (binding.kind) {
    case 'code':
      if (typeof value === 'string' && !hasCode(valueSet, undefined, value)) {
        return { text: `Value "${value}" is not allowed`, atCoding: false }
      }
      return undefined
    case 'Coding':
      if (isJsonObject(value) && !isCodingAccepted(value, valueSet)) {
        return { text: `Coding ${describeCoding(value)} is not allowed`, atCoding: false }
      }
      return undefined
    case 'CodeableConcept':
      return codeableConceptProblem(value, valueSet)
  }
}

/** The issue for a problem found by `bindingProblem` at `path` (the element, not its `coding`). */
export function bindingIssue(problem: BindingProblem, binding: RequiredBinding, path: string): FhirIssue {
  const at = problem.atCoding ? `${path}.coding` : path
  const { valueSet } = binding
  return {
    severity: 'error',
    code: 'code-invalid',
    diagnostics: `${problem.text} at ${at}: it must come from the required ValueSet ${valueSet.url}; use one of ${listCodes(valueSet)}`,
    expression: [at],
  }
}

/**
 * A required binding on a CodeableConcept needs one coding from the ValueSet. A concept whose
 * codings all come from other systems (or that carries only `text`) is accepted: rejecting it
 * would refuse translations the ValueSet simply does not list, which is not what "cannot check" means.
 */
function codeableConceptProblem(value: unknown, valueSet: ExpandedValueSet): BindingProblem | undefined {
  if (!isJsonObject(value) || !Array.isArray(value.coding)) return undefined
  let inScope = 0
  for (const coding of value.coding) {
    if (!isJsonObject(coding) || typeof coding.system !== 'string' || !valueSet.codesBySystem.has(coding.system)) continue
    if (isCodingAccepted(coding, valueSet)) return undefined
    inScope++
  }
  if (inScope === 0) return undefined
  const described = value.coding
    .filter(isJsonObject)
    .filter((c) => typeof c.system === 'string' && valueSet.codesBySystem.has(c.system))
    .map(describeCoding)
    .join(', ')
  return { text: `None of the codings (${described}) is allowed`, atCoding: true }
}

function isCodingAccepted(coding: JsonObject, valueSet: ExpandedValueSet): boolean {
  if (typeof coding.code !== 'string') return true // only `display` or extensions: nothing to check
  const system = typeof coding.system === 'string' ? coding.system : undefined
  return hasCode(valueSet, system, coding.code)
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
