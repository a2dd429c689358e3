import type { FhirIssue } from '../../errors.js'
import { ANY_RESOURCE } from './binding-plan.js'
import type { BindingCheck, TypePlan } from './binding-plan.js'
import { isResourceType } from './resource-types.js'
import { hasCode } from './value-set-expansion.js'
import type { ExpandedValueSet } from './value-set-expansion.js'

/** How many codes of the ValueSet a diagnostic lists before "…". */
const MAX_CODES_IN_MESSAGE = 12

type JsonObject = Record<string, unknown>

/**
 * Checks every required binding of a resource (and of the resources it contains or bundles)
 * against the precompiled plans. @medplum/core does not check bindings, so this is the only place
 * that enforces https://hl7.org/fhir/R4/terminologies.html#required.
 *
 * Inputs that are structurally wrong (a number where a Coding belongs…) are skipped here: the
 * structural validator already reports them.
 */
export function checkRequiredBindings(resource: JsonObject, plans: ReadonlyMap<string, TypePlan>): FhirIssue[] {
  const issues: FhirIssue[] = []
  walkResource(resource, String(resource.resourceType), plans, issues)
  return issues
}

function walkResource(resource: JsonObject, path: string, plans: ReadonlyMap<string, TypePlan>, issues: FhirIssue[]): void {
  const plan = plans.get(String(resource.resourceType))
  if (plan) walkObject(resource, plan, path, plans, issues)
}

function walkObject(
  obj: JsonObject,
  plan: TypePlan,
  path: string,
  plans: ReadonlyMap<string, TypePlan>,
  issues: FhirIssue[],
): void {
  for (const check of plan.checks) {
    const value = obj[check.key]
    if (value === undefined) continue
    forEachItem(value, `${path}.${check.key}`, (item, itemPath) => checkValue(item, check, itemPath, issues))
  }
  for (const descent of plan.descents) {
    const value = obj[descent.key]
    if (value === undefined) continue
    forEachItem(value, `${path}.${descent.key}`, (item, itemPath) => {
      if (!isJsonObject(item)) return
      if (descent.type === ANY_RESOURCE) {
        checkNestedResourceType(item, itemPath, issues)
        walkResource(item, itemPath, plans, issues)
        return
      }
      const childPlan = plans.get(descent.type)
      if (childPlan) walkObject(item, childPlan, itemPath, plans, issues)
    })
  }
}

function forEachItem(value: unknown, path: string, visit: (item: unknown, itemPath: string) => void): void {
  if (!Array.isArray(value)) {
    visit(value, path)
    return
  }
  for (let i = 0; i < value.length; i++) visit(value[i], `${path}[${i}]`)
}

function checkValue(value: unknown, check: BindingCheck, path: string, issues: FhirIssue[]): void {
  const { valueSet } = check
  switch (check.kind) {
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
 * codings all come from other systems (or that carries only `text`) is accepted: the R4 examples
 * use local extra codings, and rejecting text-only concepts would refuse data the spec shows.
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
  if (typeof coding.code !== 'string') return true // a Coding with only `display` or extensions: nothing to check
  const system = typeof coding.system === 'string' ? coding.system : undefined
  return hasCode(valueSet, system, coding.code)
}

function checkNestedResourceType(resource: JsonObject, path: string, issues: FhirIssue[]): void {
  const type = resource.resourceType
  if (typeof type === 'string' && isResourceType(type)) return
  issues.push({
    severity: 'error',
    code: 'structure',
    diagnostics:
      type === undefined
        ? `Missing resourceType at ${path}; a nested resource must name its R4 type`
        : `Unknown resourceType ${JSON.stringify(type)} at ${path}; use an R4 resource type`,
    expression: [`${path}.resourceType`],
  })
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
