import type { FhirIssue } from '../../errors.js'
import { checkBinding } from './binding-check.js'
import { isResourceType } from './resource-types.js'
import type { ElementPlan, TypePlan } from './type-plans.js'

type JsonObject = Record<string, unknown>

/**
 * The checks @medplum/core leaves out, in one walk over the resource with the compiled plans:
 * - JSON shape: an object where a primitive belongs (`"birthDate": {}`) and a primitive where an
 *   object belongs (`"code": 7`, `"name": [5]`) pass Medplum's validator silently;
 * - nested resources (contained, Bundle.entry.resource, Parameters.parameter.resource) must be of
 *   an R4 type, not a Medplum one such as Project;
 * - required ValueSet bindings (binding-check.ts).
 * Unknown properties, nulls and cardinality are Medplum's job and are skipped here.
 * See https://hl7.org/fhir/R4/json.html
 */
export function walkResource(resource: JsonObject, plans: ReadonlyMap<string, TypePlan>): FhirIssue[] {
  const issues: FhirIssue[] = []
  const plan = plans.get(String(resource.resourceType))
  if (plan) walkObject(resource, plan, String(resource.resourceType), plans, issues)
  return issues
}

function walkObject(
  obj: JsonObject,
  plan: TypePlan,
  path: string,
  plans: ReadonlyMap<string, TypePlan>,
  issues: FhirIssue[],
): void {
  for (const key of Object.keys(obj)) {
    const element = plan.get(key)
    const value = obj[key]
    if (!element || value === null || value === undefined) continue
    const elementPath = `${path}.${key}`
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) walkValue(value[i], element, `${elementPath}[${i}]`, plans, issues)
    } else {
      walkValue(value, element, elementPath, plans, issues)
    }
  }
}

function walkValue(
  value: unknown,
  element: ElementPlan,
  path: string,
  plans: ReadonlyMap<string, TypePlan>,
  issues: FhirIssue[],
): void {
  if (value === null || value === undefined) return
  if (element.shape === 'primitive') {
    if (typeof value === 'object') {
      issues.push(shapeIssue(`Expected a ${primitiveName(element.type)} value, but got ${describe(value)}`, path))
    } else if (element.binding) {
      checkBinding(value, element.binding, path, issues)
    }
    return
  }
  if (!isJsonObject(value)) {
    const expected = element.shape === 'resource' ? 'a resource' : `a ${element.type}`
    issues.push(shapeIssue(`Expected a JSON object (${expected}), but got ${describe(value)}`, path))
    return
  }
  if (element.binding) checkBinding(value, element.binding, path, issues)
  if (element.shape === 'resource') {
    walkNestedResource(value, path, plans, issues)
    return
  }
  const childPlan = plans.get(element.type)
  if (childPlan) walkObject(value, childPlan, path, plans, issues)
}

function walkNestedResource(resource: JsonObject, path: string, plans: ReadonlyMap<string, TypePlan>, issues: FhirIssue[]): void {
  const type = resource.resourceType
  if (typeof type !== 'string' || !isResourceType(type)) {
    issues.push({
      severity: 'error',
      code: 'structure',
      diagnostics:
        type === undefined
          ? `Missing resourceType at ${path}; a nested resource must name its R4 type`
          : `Unknown resourceType ${JSON.stringify(type)} at ${path}; use an R4 resource type`,
      expression: [`${path}.resourceType`],
    })
    return
  }
  const plan = plans.get(type)
  if (plan) walkObject(resource, plan, path, plans, issues)
}

function shapeIssue(problem: string, path: string): FhirIssue {
  return { severity: 'error', code: 'structure', diagnostics: `${problem} at ${path}`, expression: [path] }
}

/** Element ids are typed with the FHIRPath System.String URL in the R4 definitions. */
function primitiveName(type: string): string {
  return type.startsWith('http') ? 'string' : type
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  const text = JSON.stringify(value)
  return `a ${typeof value} (${text.length > 40 ? `${text.slice(0, 37)}…` : text})`
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
