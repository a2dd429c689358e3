import type { FhirIssue } from '../../errors.js'
import { bindingIssue, bindingProblem } from './binding-check.js'
import type { CompiledType, CompiledTypes, PropertyPlan, RequiredElement } from './compiled-types.js'
import { firstFailedInvariant } from './invariants.js'
import { describeJsType } from './primitive-formats.js'
import { checkReference } from './reference-check.js'
import { isResourceType } from './resource-types.js'
import { WalkContext } from './walk-context.js'

type JsonObject = Record<string, unknown>

/**
 * Validates a resource of an R4 type in one walk over its own JSON keys, each looked up in the
 * compiled plan of its type. It takes @medplum/core's validator (typeschema/validation.ts) rule by
 * rule, so that decisions match it, plus what that validator leaves out: objects where primitives
 * belong and the reverse, nested resources of non-R4 types and required ValueSet bindings.
 * The type's own invariants (dom-2, obs-6…) are evaluated for the validated resource only, not for
 * contained resources or Bundle entries, as in @medplum/core; element invariants (ext-1, obs-3…)
 * everywhere. See https://hl7.org/fhir/R4/validation.html and https://hl7.org/fhir/R4/json.html
 */
export function walkResource(resource: JsonObject & { resourceType: string }, types: CompiledTypes): FhirIssue[] {
  const type = types.get(resource.resourceType)
  const ctx = new WalkContext(resource)
  if (!type) return ctx.issues
  if (type.constraints) {
    const failed = firstFailedInvariant(type.constraints, ctx.rootResource, ctx.rootResource, ctx.rootResource)
    if (failed) ctx.invariant(failed)
  }
  new ResourceWalk(types, ctx).object(resource, type)
  return ctx.issues
}

const UNKNOWN_HINT = 'remove it or fix its spelling (names are case-sensitive)'

class ResourceWalk {
  constructor(
    private readonly types: CompiledTypes,
    private readonly ctx: WalkContext,
  ) {}

  object(obj: JsonObject, type: CompiledType): void {
    const ctx = this.ctx
    let choices: (string | undefined)[] | undefined
    for (const key in obj) {
      if (key === 'resourceType') continue // the type discriminator, checked where a resource is expected
      const value = obj[key]
      const plan = type.properties.get(key)
      if (plan === undefined) {
        this.unknownProperty(key, type)
        continue
      }
      ctx.push(plan.primitive ? plan.primitive.key : key)
      if (value === null) {
        ctx.error('structure', { text: 'Invalid null value', hint: 'leave the element out instead of sending null' })
      } else {
        if (plan.choice >= 0) choices = this.choice(key, plan, type, choices)
        if (plan.kind === 'extension') this.primitiveExtensions(obj, value, plan)
        else this.property(obj, value, plan)
      }
      ctx.pop()
    }
    for (const element of type.required) {
      if (!isPresent(obj, element)) {
        ctx.error('structure', { text: 'Missing required property', hint: `${type.name}.${element.elementName} has cardinality 1.., so it must be sent` }, element.elementName)
      }
    }
  }

  private property(obj: JsonObject, value: unknown, plan: PropertyPlan): void {
    const ctx = this.ctx
    if (isEmptyJson(value) && this.isAbsent(obj, value, plan)) return
    if (Array.isArray(value)) {
      if (!plan.isArray) {
        ctx.error('structure', { text: 'Expected single value for property', hint: `send one ${plan.type}, not an array` })
        this.bodies(value, plan)
        return
      }
      if (value.length > plan.max) ctx.error('structure', `Invalid number of values: expected ${plan.min}..${plan.max}, but found ${value.length}`)
      for (let i = 0; i < value.length; i++) {
        ctx.push(i)
        this.item(obj, value[i], plan, i)
        ctx.pop()
      }
    } else if (plan.isArray) {
      ctx.error('structure', { text: 'Expected array of values for property', hint: `wrap the value in an array: [${plan.kind === 'primitive' ? '"…"' : '{…}'}]` })
      if (plan.kind !== 'primitive') this.body(value, plan)
    } else {
      this.item(obj, value, plan, -1)
    }
  }

  /** An array value or array item at the current path; `index` is -1 for a single value. */
  private item(obj: JsonObject, item: unknown, plan: PropertyPlan, index: number): void {
    const ctx = this.ctx
    if (plan.kind === 'primitive') {
      if (item === null) {
        const extensions = obj[`_${plan.key}`]
        if (!(Array.isArray(extensions) && extensions[index])) ctx.error('structure', 'Invalid null value')
        return
      }
      const problem = plan.check?.(item)
      if (problem) ctx.error('structure', problem)
      if (plan.binding) this.binding(item, plan)
      if (plan.constraints && typeof item !== 'object') this.invariants(plan, primitiveValue(obj, item, plan, index))
      return
    }
    if (!isJsonObject(item)) {
      ctx.error('structure', item === null ? 'Invalid null value' : notAnObject(item, plan))
      return
    }
    if (plan.kind === 'resource') {
      this.nestedResource(item, plan)
      return
    }
    if (isEmptyJson(item)) {
      ctx.error('structure', { text: 'Invalid empty non-primitive value', hint: 'leave the element out instead of sending {}' })
      return
    }
    if (plan.binding) this.binding(item, plan)
    if (plan.constraints) this.invariants(plan, { type: plan.type, value: item })
    if (plan.referenceTargets) checkReference(item, plan.referenceTargets, ctx)
    this.body(item, plan)
  }

  /** What @medplum/core still walks into after "Expected single/array value": the objects' own content. */
  private bodies(values: unknown[], plan: PropertyPlan): void {
    if (plan.kind === 'primitive') return
    for (let i = 0; i < values.length; i++) {
      this.ctx.push(i)
      this.body(values[i], plan)
      this.ctx.pop()
    }
  }

  private body(value: unknown, plan: PropertyPlan): void {
    if (!isJsonObject(value)) return
    if (plan.kind === 'resource') this.nestedResource(value, plan)
    else {
      const type = this.types.childOf(plan)
      if (type) this.object(value, type)
    }
  }

  private nestedResource(resource: JsonObject, plan: PropertyPlan): void {
    const ctx = this.ctx
    const resourceType = resource.resourceType
    if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
      const text =
        resourceType === undefined
          ? 'Missing resourceType; a nested resource must name its R4 type'
          : `Unknown resourceType ${JSON.stringify(resourceType)}; use an R4 resource type`
      ctx.error('structure', text, 'resourceType')
      return
    }
    const type = this.types.get(resourceType)
    if (!type) return
    ctx.enterResource(resource)
    if (plan.constraints) this.invariants(plan, ctx.currentResource())
    this.object(resource, type)
    ctx.exitResource()
  }

  /** `_name`: the id and extensions of primitive `name`, an object (or for arrays, objects and nulls by position). */
  private primitiveExtensions(obj: JsonObject, value: unknown, plan: PropertyPlan): void {
    const ctx = this.ctx
    const element = this.types.get('Element')
    const values = obj[plan.primitive?.key ?? '']
    const isArrayElement = plan.primitive?.isArray === true
    if (Array.isArray(value) && (isArrayElement || Array.isArray(values))) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        ctx.push(i)
        if (item === null) {
          if (!(Array.isArray(values) && values[i])) ctx.error('structure', 'Invalid null value')
        } else if (isJsonObject(item)) {
          if (element) this.object(item, element)
        } else {
          ctx.error('structure', { text: `Invalid ${plan.key} entry: expected a JSON object or null, but got ${describeJsType(item)}` })
        }
        ctx.pop()
      }
    } else if (isJsonObject(value) && !isArrayElement && !Array.isArray(values)) {
      if (element) this.object(value, element)
    } else {
      const expected = isArrayElement || Array.isArray(values) ? 'an array of JSON objects and nulls' : 'a JSON object'
      ctx.error('structure', {
        text: `Invalid ${plan.key}: expected ${expected}, but got ${describeJsType(value)}`,
        hint: `${plan.key} carries the id and extensions of ${plan.primitive?.key ?? 'the primitive'} (https://hl7.org/fhir/R4/json.html#primitive)`,
      })
    }
  }

  /**
   * @medplum/core reads "", [] and {} as absent. Where they are of the right kind (a blank primitive,
   * an empty array or object) they are let through as such; inside a choice they name no type, a blank
   * code is still outside its required ValueSet, and the other shapes are checked as values.
   */
  private isAbsent(obj: JsonObject, value: unknown, plan: PropertyPlan): boolean {
    const ctx = this.ctx
    if (plan.choice >= 0) {
      ctx.error('structure', { text: `Invalid empty value for ${plan.key}`, hint: 'leave the element out' })
      return true
    }
    if (Array.isArray(value)) return true
    if (plan.kind === 'primitive') {
      if (value !== '') return false
      if (obj[`_${plan.key}`] !== undefined) ctx.error('structure', plan.check?.('') ?? 'Invalid empty value')
      else if (plan.binding) this.binding('', plan)
      return true
    }
    return plan.kind === 'complex' && value !== ''
  }

  /** Two types for one choice element (https://hl7.org/fhir/R4/formats.html#choice) are an error. */
  private choice(key: string, plan: PropertyPlan, type: CompiledType, seen: (string | undefined)[] | undefined) {
    const choices = seen ?? new Array<string | undefined>(type.choiceCount * 2)
    const slot = plan.kind === 'extension' ? plan.choice + type.choiceCount : plan.choice
    const previous = choices[slot]
    if (previous !== undefined && previous !== key) {
      this.ctx.error('structure', { text: `Conflicting choice of type properties: "${key}", "${previous}"`, hint: `${plan.elementName} takes one type; keep one of them` })
    }
    choices[slot] = key
    const partner = choices[plan.kind === 'extension' ? plan.choice : plan.choice + type.choiceCount]
    if (partner !== undefined && partner.replace(/^_/, '') !== key.replace(/^_/, '')) {
      this.ctx.warning('structure', `Type of primitive extension does not match the type of property "${key.replace(/^_/, '')}"`)
    }
    return choices
  }

  private binding(value: unknown, plan: PropertyPlan): void {
    const binding = plan.binding
    const problem = binding && bindingProblem(value, binding)
    if (binding && problem) this.ctx.issues.push(bindingIssue(problem, binding, this.ctx.path()))
  }

  private invariants(plan: PropertyPlan, value: { type: string; value: unknown }): void {
    const constraints = plan.constraints
    if (!constraints) return
    const failed = firstFailedInvariant(constraints, value, this.ctx.currentResource(), this.ctx.rootResource)
    if (failed) this.ctx.invariant(failed)
  }

  private unknownProperty(key: string, type: CompiledType): void {
    const lower = key.toLowerCase()
    const similar = [...type.properties.keys()].find((k) => k.toLowerCase() === lower)
    const hint = similar ? `did you mean "${similar}"? Names are case-sensitive` : UNKNOWN_HINT
    this.ctx.error('structure', { text: `Invalid additional property "${key}"`, hint }, key)
  }
}

/**
 * The value FHIRPath sees for a primitive: with its `_name` sibling merged in, as @medplum/core's
 * getTypedPropertyValue does (a String/Number/Boolean object carrying `id` and `extension`).
 */
function primitiveValue(obj: JsonObject, item: unknown, plan: PropertyPlan, index: number) {
  const sibling = obj[`_${plan.key}`]
  const extension: unknown = index >= 0 ? (Array.isArray(sibling) ? sibling[index] : undefined) : sibling
  const value = isJsonObject(extension) ? Object.assign(Object(item) as object, extension) : item
  return { type: plan.type, value }
}

/** Whether a required element is there, as @medplum/core sees it: a non-empty value or `_` sibling. */
function isPresent(obj: JsonObject, element: RequiredElement): boolean {
  for (const key of element.keys) {
    const value = obj[key]
    if (value !== undefined && !isEmptyJson(value)) return true
  }
  for (const key of element.extensionKeys) if (!isEmptyJson(obj[key])) return true
  return false
}

/** @medplum/core's isEmpty for JSON: null, "", [] and {}. */
function isEmptyJson(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true
  if (typeof value !== 'object') return false
  if (Array.isArray(value)) return value.length === 0
  for (const _key in value) return false
  return true
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function notAnObject(value: unknown, plan: PropertyPlan): { text: string; hint: string } {
  const expected = plan.kind === 'resource' ? 'a resource' : `a ${plan.type}`
  const text = JSON.stringify(value) ?? String(value)
  const shown = text.length > 40 ? `${text.slice(0, 37)}…` : text
  return { text: `Expected a JSON object (${expected}), but got ${describeJsType(value)} ${shown}`, hint: `send ${expected} as a JSON object` }
}
