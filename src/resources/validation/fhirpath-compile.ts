import {
  AndAtom,
  DotAtom,
  EqualsAtom,
  FunctionAtom,
  ImpliesAtom,
  NotEqualsAtom,
  OrAtom,
  SymbolAtom,
  XorAtom,
  booleanToTypedValue,
  capitalize,
  fhirPathArrayEquals,
  fhirPathArrayNotEquals,
  getElementDefinitionFromElements,
  getTypedPropertyValue,
  isEmpty,
  parseFhirPath,
  singleton,
  toJsBoolean,
  tryGetDataType,
} from '@medplum/core'
import type { Atom, AtomContext, TypedValue } from '@medplum/core'

/** A FHIRPath expression compiled to a closure with the signature (and results) of `FhirPathAtom.eval`. */
export type CompiledExpression = (context: AtomContext, input: TypedValue[]) => TypedValue[]

/** How `name` is read from a JSON object of one type: the JSON keys to try, in @medplum/core's order. */
interface Navigation {
  readonly candidates: readonly { key: string; extensionKey: string; type: string }[]
  /**
   * For choice elements: JSON key (and `_` key) → candidate index. Scanning the object's few keys
   * beats probing ~50 absent `valueX` keys, and the lowest index keeps @medplum/core's pick.
   */
  readonly indexByKey?: ReadonlyMap<string, number>
}

/** Above this many candidates, navigation scans the object's keys instead of probing each candidate. */
const MAX_PROBED_CANDIDATES = 4

const IDENTIFIER = /^[a-z][A-Za-z0-9]*$/
const TRUE: TypedValue[] = booleanToTypedValue(true)

/**
 * Compiles FHIRPath invariants once so that evaluating them costs a few property reads instead of
 * @medplum/core's generic navigation (`getTypedPropertyValue` builds `value` + type name for every
 * one of ~50 choice types on each `value.exists()`, about 8 µs for ext-1).
 *
 * The results are @medplum/core's, by construction: member navigation, `exists()`, `empty()`,
 * `where()`, `all()`, the boolean operators and `=`/`!=` are re-implemented line for line over the
 * same TypedValues, with navigation tables derived from the same schema; every other node is
 * @medplum/core's own atom, evaluated on the same inputs. Navigation that needs @medplum/core's merge of
 * primitive extensions (`_birthDate`) or has no schema falls back to its `getTypedPropertyValue`.
 */
export class FhirPathCompiler {
  private readonly navigation = new Map<string, Map<string, Navigation | null>>()

  compile(expression: string): CompiledExpression {
    const child = this.compileAtom(parseFhirPath(expression).child)
    // Mirrors FhirPathAtom.eval: each input item is evaluated with its own $this.
    return (context, input) => {
      try {
        if (input.length === 0) return child(context, [])
        const result: TypedValue[] = []
        for (const item of input) result.push(...child({ parent: context, variables: { $this: item } }, [item]))
        return result
      } catch (error) {
        throw new Error(`FhirPathError on "${expression}": ${String(error)}`, { cause: error })
      }
    }
  }

  private compileAtom(atom: Atom): CompiledExpression {
    if (atom instanceof SymbolAtom && IDENTIFIER.test(atom.name)) return this.compileMember(atom.name)
    if (atom instanceof DotAtom) {
      const left = this.compileAtom(atom.left)
      const right = this.compileAtom(atom.right)
      return (context, input) => right(context, left(context, input))
    }
    if (atom instanceof FunctionAtom) return this.compileFunction(atom)
    if (atom instanceof AndAtom || atom instanceof OrAtom || atom instanceof XorAtom || atom instanceof ImpliesAtom) {
      return this.compileLogical(atom)
    }
    if (atom instanceof EqualsAtom || atom instanceof NotEqualsAtom) {
      const left = this.compileAtom(atom.left)
      const right = this.compileAtom(atom.right)
      const compare = atom instanceof EqualsAtom ? fhirPathArrayEquals : fhirPathArrayNotEquals
      return (context, input) => compare(left(context, input), right(context, input))
    }
    return (context, input) => atom.eval(context, input)
  }

  private compileFunction(atom: FunctionAtom): CompiledExpression {
    const [criteria, ...rest] = atom.args.map((arg) => this.compileAtom(arg))
    if (rest.length > 0) return (context, input) => atom.eval(context, input)
    switch (atom.name) {
      case 'exists':
        if (criteria) return (context, input) => booleanToTypedValue(input.filter((e) => toJsBoolean(criteria(context, [e]))).length > 0)
        return (_context, input) => booleanToTypedValue(input.length > 0 && input.every((e) => !isEmpty(e.value)))
      case 'empty':
        if (criteria) break
        return (_context, input) => booleanToTypedValue(input.length === 0 || input.every((e) => isEmpty(e.value)))
      case 'where':
        if (!criteria) break
        return (context, input) => input.filter((e) => toJsBoolean(criteria(context, [e])))
      case 'all':
        if (!criteria) break
        return (context, input) => booleanToTypedValue(input.every((e) => toJsBoolean(criteria(context, [e]))))
      case 'htmlChecks':
        // @medplum/core does not check XHTML and answers true whatever the input (txt-1, txt-2).
        return () => TRUE
    }
    return (context, input) => atom.eval(context, input)
  }

  /** The three-valued logic of @medplum/core's AndAtom, OrAtom, XorAtom and ImpliesAtom (both sides always evaluated). */
  private compileLogical(atom: AndAtom | OrAtom | XorAtom | ImpliesAtom): CompiledExpression {
    const leftOf = this.compileAtom(atom.left)
    const rightOf = this.compileAtom(atom.right)
    const operator = atom.operator
    return (context, input) => {
      const left = singleton(leftOf(context, input), 'boolean')?.value as boolean | undefined
      const right = singleton(rightOf(context, input), 'boolean')?.value as boolean | undefined
      switch (operator) {
        case 'and':
          if (left === true && right === true) return booleanToTypedValue(true)
          return left === false || right === false ? booleanToTypedValue(false) : []
        case 'or':
          if (left === false && right === false) return booleanToTypedValue(false)
          return left || right ? booleanToTypedValue(true) : []
        case 'xor':
          return left === undefined || right === undefined ? [] : booleanToTypedValue(left !== right)
        default: // implies
          if (right === true || left === false) return booleanToTypedValue(true)
          return left === undefined || right === undefined ? [] : booleanToTypedValue(false)
      }
    }
  }

  /** SymbolAtom.eval for a plain element name, with getTypedPropertyValue's schema branch inlined. */
  private compileMember(name: string): CompiledExpression {
    return (_context, input) => {
      const result: TypedValue[] = []
      for (const item of input) {
        const value = item.value as Record<string, unknown> | null | undefined
        if (!value || typeof value !== 'object') continue
        if (value.resourceType === name) {
          result.push(item)
          continue
        }
        const property = this.property(item, value, name)
        if (property === undefined) continue
        if (Array.isArray(property)) {
          for (const p of property) if (p?.value !== undefined) result.push(p)
        } else if (property.value !== undefined) {
          result.push(property)
        }
      }
      return result
    }
  }

  private property(item: TypedValue, value: Record<string, unknown>, name: string): TypedValue | TypedValue[] | undefined {
    const navigation = this.navigationFor(item.type, name)
    if (!navigation) return getTypedPropertyValue(item, name)
    const { candidates, indexByKey } = navigation
    if (indexByKey) {
      let best = candidates.length
      for (const key in value) {
        const index = indexByKey.get(key)
        if (index !== undefined && index < best) best = index
      }
      const candidate = candidates[best]
      return candidate && this.read(item, value, name, candidate)
    }
    for (const candidate of candidates) {
      if (value[candidate.key] !== undefined || value[candidate.extensionKey] !== undefined) {
        return this.read(item, value, name, candidate)
      }
    }
    return undefined
  }

  /** The tail of getTypedPropertyValueWithSchema once the JSON key is known. */
  private read(item: TypedValue, value: Record<string, unknown>, name: string, candidate: Navigation['candidates'][number]) {
    if (value[candidate.extensionKey]) return getTypedPropertyValue(item, name)
    const found = value[candidate.key]
    if (isEmpty(found)) return undefined
    return Array.isArray(found) ? found.map((v) => typed(v, candidate.type)) : typed(found, candidate.type)
  }

  private navigationFor(type: string, name: string): Navigation | null {
    let byName = this.navigation.get(type)
    if (!byName) {
      // Types come from the data too (a nested resource's resourceType): only known ones are cached.
      if (typeof type !== 'string' || !tryGetDataType(type)) return null
      this.navigation.set(type, (byName = new Map()))
    }
    let navigation = byName.get(name)
    if (navigation === undefined) byName.set(name, (navigation = buildNavigation(type, name)))
    return navigation
  }
}

function buildNavigation(type: string, name: string): Navigation | null {
  const schema = tryGetDataType(type)
  const element = schema && getElementDefinitionFromElements(schema.elements, name)
  if (!element) return null
  const lastSegment = element.path.slice(element.path.lastIndexOf('.') + 1)
  const fallbackType = element.type[0]?.code ?? 'undefined'
  const candidates = element.type.map((t) => {
    const key = lastSegment.replace('[x]', capitalize(t.code))
    const resolved = t.code === 'Element' || t.code === 'BackboneElement' ? fallbackType : t.code
    return { key, extensionKey: `_${key}`, type: resolved }
  })
  if (candidates.length <= MAX_PROBED_CANDIDATES) return { candidates }
  const indexByKey = new Map<string, number>()
  candidates.forEach((c, i) => {
    if (!indexByKey.has(c.key)) indexByKey.set(c.key, i)
    if (!indexByKey.has(c.extensionKey)) indexByKey.set(c.extensionKey, i)
  })
  return { candidates, indexByKey }
}

function typed(value: unknown, type: string): TypedValue {
  if (type === 'Resource' && typeof value === 'object' && value !== null && 'resourceType' in value) {
    return { type: value.resourceType as string, value }
  }
  return { type, value }
}
