import { capitalize, isPrimitiveType, tryGetDataType } from '@medplum/core'
import type { InternalSchemaElement } from '@medplum/core'
import type { ExpandedValueSet, ValueSetExpander } from './value-set-expansion.js'

/** The datatypes a required binding can be checked on (R4 terminologies.html#binding). */
export type BoundKind = 'code' | 'Coding' | 'CodeableConcept'

/** One JSON property whose value must come from a ValueSet. */
export interface BindingCheck {
  readonly key: string
  readonly kind: BoundKind
  readonly valueSet: ExpandedValueSet
}

/** One JSON property to walk into: a datatype, a backbone element, or (`type: 'Resource'`) any resource. */
export interface Descent {
  readonly key: string
  readonly type: string
}

/** What to look at in one JSON object of a given FHIR type; types with nothing to check have no plan. */
export interface TypePlan {
  readonly checks: readonly BindingCheck[]
  readonly descents: readonly Descent[]
}

/** Type used for elements such as `contained` and `Bundle.entry.resource`: resolved from `resourceType`. */
export const ANY_RESOURCE = 'Resource'

const BOUND_KINDS: ReadonlySet<string> = new Set<BoundKind>(['code', 'Coding', 'CodeableConcept'])

/**
 * Compiles, once at load time, for every type reachable from `rootTypes`, the list of properties
 * carrying a checkable required binding and the properties worth descending into. Descents into
 * types that can never contain a required binding are pruned, so validating a write only touches the
 * few paths that matter (about a dozen objects for Observation-example) instead of crawling the
 * whole resource a second time after @medplum/core.
 */
export function compileBindingPlans(rootTypes: readonly string[], expander: ValueSetExpander): ReadonlyMap<string, TypePlan> {
  const raw = new Map<string, { checks: BindingCheck[]; descents: Descent[] }>()
  const queue = [...rootTypes]
  for (let type = queue.pop(); type !== undefined; type = queue.pop()) {
    if (raw.has(type) || type === ANY_RESOURCE) continue
    const schema = tryGetDataType(type)
    if (!schema) continue
    const plan = { checks: [] as BindingCheck[], descents: [] as Descent[] }
    raw.set(type, plan)
    for (const [name, element] of Object.entries(schema.elements)) {
      for (const { key, type: elementType } of propertyKeys(name, element)) {
        const check = bindingCheck(key, elementType, element, expander)
        if (check) plan.checks.push(check)
        if (!isPrimitiveType(elementType)) {
          plan.descents.push({ key, type: elementType })
          queue.push(elementType)
        }
      }
    }
  }
  return prune(raw)
}

/** JSON property names of one element: `value[x]` becomes `valueString`, `valueQuantity`, … */
function propertyKeys(name: string, element: InternalSchemaElement): { key: string; type: string }[] {
  if (!name.endsWith('[x]')) {
    const type = element.type[0]?.code
    return type ? [{ key: name, type }] : []
  }
  const base = name.slice(0, -3)
  return element.type.map((t) => ({ key: base + capitalize(t.code), type: t.code }))
}

function bindingCheck(
  key: string,
  type: string,
  element: InternalSchemaElement,
  expander: ValueSetExpander,
): BindingCheck | undefined {
  const binding = element.binding
  if (binding?.strength !== 'required' || !binding.valueSet || !BOUND_KINDS.has(type)) return undefined
  // Unknown or non-expandable ValueSets (mimetypes, currencies, UCUM…) cannot be checked: accept.
  const valueSet = expander.expand(binding.valueSet)
  return valueSet ? { key, kind: type as BoundKind, valueSet } : undefined
}

/** Keeps only types that have a check, reach one, or may hold a resource (whose type is only known at run time). */
function prune(raw: Map<string, { checks: BindingCheck[]; descents: Descent[] }>): ReadonlyMap<string, TypePlan> {
  const relevant = new Set<string>()
  for (let changed = true; changed; ) {
    changed = false
    for (const [type, plan] of raw) {
      if (relevant.has(type)) continue
      if (plan.checks.length > 0 || plan.descents.some((d) => d.type === ANY_RESOURCE || relevant.has(d.type))) {
        relevant.add(type)
        changed = true
      }
    }
  }
  const plans = new Map<string, TypePlan>()
  for (const type of relevant) {
    const plan = raw.get(type)
    if (!plan) continue
    plans.set(type, {
      checks: plan.checks,
      descents: plan.descents.filter((d) => d.type === ANY_RESOURCE || relevant.has(d.type)),
    })
  }
  return plans
}
