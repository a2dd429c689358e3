import { capitalize, isPrimitiveType, tryGetDataType } from '@medplum/core'
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core'
import type { RequiredBinding } from './binding-check.js'
import type { CompiledExpression, FhirPathCompiler } from './fhirpath-compile.js'
import { compileConstraints } from './invariants.js'
import type { CompiledConstraint } from './invariants.js'
import { compilePrimitiveCheck } from './primitive-formats.js'
import type { PrimitiveCheck } from './primitive-formats.js'
import type { ValueSetExpander } from './value-set-expansion.js'

/**
 * What one JSON property of a type holds. `primitive` values are JSON strings/numbers/booleans,
 * `complex` values are JSON objects of `type` (a datatype or backbone element), `resource` values are
 * JSON objects whose type is their own `resourceType` (contained, Bundle.entry.resource…), and
 * `extension` is the `_name` sibling that carries the id and extensions of primitive `name`
 * (https://hl7.org/fhir/R4/json.html#primitive).
 */
export interface PropertyPlan {
  readonly key: string
  /** The element name in the StructureDefinition: `value[x]` for `valueQuantity`. */
  readonly elementName: string
  readonly type: string
  readonly kind: 'primitive' | 'complex' | 'resource' | 'extension'
  readonly isArray: boolean
  readonly min: number
  readonly max: number
  /** Index of the choice element (`value[x]`) among the type's choice elements, or -1. */
  readonly choice: number
  readonly check?: PrimitiveCheck
  readonly binding?: RequiredBinding
  readonly constraints?: readonly CompiledConstraint[]
  /** For References: the resource types allowed by targetProfile; absent when anything goes. */
  readonly referenceTargets?: ReadonlySet<string>
  /** For `extension` plans: the primitive property whose extensions these are. */
  readonly primitive?: PropertyPlan
  /** For `complex` plans: the compiled `type`, filled by `CompiledTypes.childOf` on first use. */
  childType?: CompiledType | null
}

/** An element with min ≥ 1, and the JSON keys that can carry it (several for a choice element). */
export interface RequiredElement {
  readonly elementName: string
  readonly keys: readonly string[]
  /** `_key` siblings that can carry the element alone (primitives with only extensions). */
  readonly extensionKeys: readonly string[]
}

/** A type compiled for validation: one Map lookup per JSON property on the hot path. */
export interface CompiledType {
  readonly name: string
  readonly properties: ReadonlyMap<string, PropertyPlan>
  readonly required: readonly RequiredElement[]
  readonly choiceCount: number
  /** The type's own invariants (dom-2, obs-6…), which apply where the type is the validated resource. */
  readonly constraints?: readonly CompiledConstraint[]
}

const BOUND_KINDS: ReadonlySet<string> = new Set(['code', 'Coding', 'CodeableConcept'])
const HL7_PROFILE = 'http://hl7.org/fhir/StructureDefinition/'
const MEDPLUM_PROFILE = 'https://medplum.com/fhir/StructureDefinition/'

/**
 * Compiles types from @medplum/core's loaded schema (`tryGetDataType`) on first use and keeps them:
 * property plans with their primitive checks, required bindings (ValueSets expanded here, once) and
 * invariants (FHIRPath parsed and compiled here, once). The R4 base definitions carry no fixed or
 * pattern values and no slices (only profiles do, and none is validated here), so none is compiled.
 */
export class CompiledTypes {
  private readonly types = new Map<string, CompiledType | null>()
  private readonly primitiveChecks = new Map<string, PrimitiveCheck>()
  private readonly expressions = new Map<string, CompiledExpression>()

  constructor(
    private readonly expander: ValueSetExpander,
    private readonly fhirpath: FhirPathCompiler,
  ) {}

  /** The compiled type, or undefined when @medplum/core has no schema of that name. */
  get(name: string): CompiledType | undefined {
    let compiled = this.types.get(name)
    if (compiled === undefined) {
      const schema = tryGetDataType(name)
      this.types.set(name, (compiled = schema ? this.compile(name, schema) : null))
    }
    return compiled ?? undefined
  }

  /** The compiled type of a complex property's values, looked up once per plan. */
  childOf(plan: PropertyPlan): CompiledType | undefined {
    if (plan.childType === undefined) plan.childType = this.get(plan.type) ?? null
    return plan.childType ?? undefined
  }

  private compile(name: string, schema: InternalTypeSchema): CompiledType {
    const properties = new Map<string, PropertyPlan>()
    const required: RequiredElement[] = []
    let choiceCount = 0
    for (const [elementName, element] of Object.entries(schema.elements)) {
      const isChoice = elementName.endsWith('[x]')
      const choice = isChoice ? choiceCount++ : -1
      const base = isChoice ? elementName.slice(0, -3) : elementName
      const types = isChoice ? element.type : element.type.slice(0, 1)
      const constraints = compileConstraints(element.constraints, this.fhirpath, this.expressions)
      const keys: string[] = []
      const extensionKeys: string[] = []
      for (const { code } of types) {
        const key = isChoice ? base + capitalize(code) : base
        const plan = this.plan(key, elementName, code, element, choice, constraints)
        properties.set(key, plan)
        keys.push(key)
        if (plan.kind !== 'primitive') continue
        properties.set(`_${key}`, { ...plan, key: `_${key}`, kind: 'extension', primitive: plan })
        extensionKeys.push(`_${key}`)
      }
      if (element.min > 0 && keys.length > 0) required.push({ elementName, keys, extensionKeys })
    }
    const constraints = compileConstraints(schema.constraints, this.fhirpath, this.expressions)
    return { name, properties, required, choiceCount, ...(constraints && { constraints }) }
  }

  private plan(
    key: string,
    elementName: string,
    type: string,
    element: InternalSchemaElement,
    choice: number,
    constraints: readonly CompiledConstraint[] | undefined,
  ): PropertyPlan {
    const kind = type === 'Resource' ? 'resource' : isPrimitiveType(type) ? 'primitive' : 'complex'
    const binding = this.requiredBinding(type, element)
    const referenceTargets = type === 'Reference' ? referenceTargetsOf(element) : undefined
    return {
      key,
      elementName,
      type,
      kind,
      isArray: element.isArray === true,
      min: element.min,
      max: element.max,
      choice,
      ...(kind === 'primitive' && { check: this.primitiveCheck(type) }),
      ...(binding && { binding }),
      ...(constraints && { constraints }),
      ...(referenceTargets && { referenceTargets }),
    }
  }

  private primitiveCheck(type: string): PrimitiveCheck {
    let check = this.primitiveChecks.get(type)
    if (!check) this.primitiveChecks.set(type, (check = compilePrimitiveCheck(type)))
    return check
  }

  private requiredBinding(type: string, element: InternalSchemaElement): RequiredBinding | undefined {
    const binding = element.binding
    if (binding?.strength !== 'required' || !binding.valueSet || !BOUND_KINDS.has(type)) return undefined
    // Unknown or non-expandable ValueSets (mimetypes, currencies, UCUM…) cannot be checked: accept.
    const valueSet = this.expander.expand(binding.valueSet)
    return valueSet ? { kind: type as RequiredBinding['kind'], valueSet } : undefined
  }
}

/**
 * The resource types a Reference element may point to, read from `targetProfile` as @medplum/core
 * does: any profile outside the HL7/Medplum base namespaces (US Core…) or the base `Resource` means
 * "cannot tell", so nothing is checked.
 */
function referenceTargetsOf(element: InternalSchemaElement): ReadonlySet<string> | undefined {
  const profiles = element.type.find((t) => t.code === 'Reference')?.targetProfile
  if (!profiles?.length) return undefined
  const types = new Set<string>()
  for (const profile of profiles) {
    const base = profile.startsWith(HL7_PROFILE) ? HL7_PROFILE : profile.startsWith(MEDPLUM_PROFILE) ? MEDPLUM_PROFILE : undefined
    if (!base) return undefined
    const type = profile.slice(base.length)
    if (type === 'Resource') return undefined
    types.add(type)
  }
  return types
}
