import { capitalize, isPrimitiveType, tryGetDataType } from '@medplum/core'
import type { InternalSchemaElement } from '@medplum/core'
import type { ExpandedValueSet, ValueSetExpander } from './value-set-expansion.js'

/** The datatypes a required binding can be checked on (R4 terminologies.html#binding). */
export type BoundKind = 'code' | 'Coding' | 'CodeableConcept'

/** A required binding that can be checked: the element's kind and the expanded ValueSet. */
export interface RequiredBinding {
  readonly kind: BoundKind
  readonly valueSet: ExpandedValueSet
}

/**
 * What one JSON property of a type holds. `primitive` values are JSON strings/numbers/booleans,
 * `complex` values are JSON objects of `type` (a datatype or backbone element), `resource` values are
 * JSON objects whose type is their own `resourceType` (contained, Bundle.entry.resource…).
 */
export interface ElementPlan {
  readonly type: string
  readonly shape: 'primitive' | 'complex' | 'resource'
  readonly binding?: RequiredBinding
}

/** JSON property name (choice elements expanded: `valueQuantity`, `valueString`…) → what it holds. */
export type TypePlan = ReadonlyMap<string, ElementPlan>

const BOUND_KINDS: ReadonlySet<string> = new Set<BoundKind>(['code', 'Coding', 'CodeableConcept'])

/**
 * Compiles once, at load time, a plan for every type reachable from `rootTypes`, so that validating
 * a write is a walk over the resource's own keys with one Map lookup each: no schema search, no
 * ValueSet expansion and no string building on the hot path (a few µs for Observation-example).
 */
export function compileTypePlans(rootTypes: readonly string[], expander: ValueSetExpander): ReadonlyMap<string, TypePlan> {
  const plans = new Map<string, TypePlan>()
  const queue = [...rootTypes]
  for (let type = queue.pop(); type !== undefined; type = queue.pop()) {
    if (plans.has(type)) continue
    const schema = tryGetDataType(type)
    if (!schema) continue
    const plan = new Map<string, ElementPlan>()
    plans.set(type, plan)
    for (const [name, element] of Object.entries(schema.elements)) {
      for (const { key, type: elementType } of propertyKeys(name, element)) {
        const elementPlan = planElement(elementType, element, expander)
        plan.set(key, elementPlan)
        if (elementPlan.shape === 'complex') queue.push(elementType)
      }
    }
  }
  return plans
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

function planElement(type: string, element: InternalSchemaElement, expander: ValueSetExpander): ElementPlan {
  const shape = type === 'Resource' ? 'resource' : isPrimitiveType(type) ? 'primitive' : 'complex'
  const binding = requiredBinding(type, element, expander)
  return binding ? { type, shape, binding } : { type, shape }
}

function requiredBinding(type: string, element: InternalSchemaElement, expander: ValueSetExpander): RequiredBinding | undefined {
  const binding = element.binding
  if (binding?.strength !== 'required' || !binding.valueSet || !BOUND_KINDS.has(type)) return undefined
  // Unknown or non-expandable ValueSets (mimetypes, currencies, UCUM…) cannot be checked: accept.
  const valueSet = expander.expand(binding.valueSet)
  return valueSet ? { kind: type as BoundKind, valueSet } : undefined
}
