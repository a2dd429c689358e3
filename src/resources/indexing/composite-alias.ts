import { tryGetDataType } from '@medplum/core'
import { splitUnion } from './expression.js'
import type { CompositeComponent, SearchParamDef, SearchParamType } from './search-param-def.js'

/**
 * Types whose values an indexer of that parameter type never turns into a row, so a union part
 * selecting only them adds nothing: numericRange (number.ts) reads `value`/`low`/`high`, which
 * SampledData lacks (R4 `value-quantity` is `(Observation.value as Quantity) | (Observation.value as SampledData)`).
 */
const NEVER_INDEXED: Partial<Record<SearchParamType, ReadonlySet<string>>> = {
  quantity: new Set(['SampledData']),
}

/**
 * Decides, once per resource type and registry, which composite components are aliases of a plain
 * parameter: the composite selects only the resource root (`Observation` for R4
 * `code-value-quantity`), and the component, read from the root, is the same FHIRPath as a plain
 * parameter of that type with the same type (`code` ≡ `Observation.code`). Such a component would
 * write exactly that parameter's rows again: both are indexed at ord 0 (the root is the composite's
 * only element, plain parameters always use ord 0), so extraction skips it and search reads the
 * plain rows instead. Anything the comparison cannot normalise is not an alias.
 *
 * Replaces in `byCode` the composites whose aliases change. Aliases are decided again for every
 * registry: a tenant redefining `code` must not inherit an alias to the base `code`.
 */
export function withCompositeAliases(byCode: Map<string, SearchParamDef>, resourceType: string): void {
  const plain = [...byCode.values()].filter((d) => d.evaluate && !d.components && !d.column && d.expression)
  for (const def of byCode.values()) {
    if (!def.components) continue
    const isRoot = def.expression !== undefined && sameParts(partsOf(def.expression, resourceType), [resourceType])
    const components = def.components.map((c) => ({ ...c, alias: isRoot ? aliasOf(c, plain, resourceType) : undefined }))
    if (components.every((c, i) => c.alias === def.components![i]!.alias)) continue
    byCode.set(def.code, { ...def, components })
  }
}

/** True when every component reads a plain parameter's rows: the composite writes none of its own. */
export const isFullyAliased = (def: SearchParamDef): boolean => !!def.components?.length && def.components.every((c) => c.alias !== undefined)

function aliasOf(component: CompositeComponent, plain: readonly SearchParamDef[], resourceType: string): string | undefined {
  const own = partsOf(component.expression, resourceType, { isRelative: true })
  if (!own) return undefined
  const candidates = plain.filter((d) => d.type === component.type)
  // The parameter the component names first: same rows, and the least surprising alias.
  candidates.sort((a, b) => Number(b.url === component.definition) - Number(a.url === component.definition))
  const ignorable = NEVER_INDEXED[component.type]
  return candidates.find((d) => {
    const theirs = partsOf(d.expression!, resourceType)
    if (!theirs || !own.every((p) => theirs.includes(p))) return false
    return theirs.every((p) => own.includes(p) || (ignorable !== undefined && ignorable.has(castTarget(p) ?? '')))
  })?.code
}

function sameParts(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return !!a && a.length === b.length && a.every((p) => b.includes(p))
}

/**
 * The union parts of `expression` that apply to `rootType`, each spelled `Root.a.as(T).b`, or
 * undefined when a part is not a plain path (then no comparison is trusted). Parts starting with
 * another resource type are dropped, as compileExpression drops them. A relative expression (a
 * component, evaluated on the root) is prefixed with the root type.
 */
export function partsOf(expression: string, rootType: string, options: { isRelative?: boolean } = {}): string[] | undefined {
  const out: string[] = []
  for (const raw of splitUnion(expression)) {
    const path = plainPath(raw)
    if (!path) return undefined
    const [first, ...rest] = path
    if (options.isRelative) {
      if (!/^[a-z]/.test(first!)) return undefined
      out.push([rootType, ...path].join('.'))
      continue
    }
    if (first === rootType || first === 'Resource' || first === 'DomainResource') out.push([rootType, ...rest].join('.'))
    else if (tryGetDataType(first!)?.kind === 'resource') continue
    else return undefined
  }
  return [...new Set(out)]
}

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/
const CAST = /^as\(([A-Za-z][A-Za-z0-9_]*)\)$/

/** `(a.b as T).c`, `a.b as T` and `a.b.as(T).c` → ['a', 'b', 'as(T)', 'c']; anything else → undefined. */
function plainPath(raw: string): string[] | undefined {
  let text = stripParens(raw.trim())
  const castThenPath = /^\((.+)\s+as\s+([A-Za-z]+)\)((?:\.[A-Za-z]+)*)$/.exec(text)
  const trailingAs = /^(.+?)\s+as\s+([A-Za-z]+)$/.exec(text)
  if (castThenPath) text = `${stripParens(castThenPath[1]!.trim())}.as(${castThenPath[2]})${castThenPath[3] ?? ''}`
  else if (trailingAs) text = `${stripParens(trailingAs[1]!.trim())}.as(${trailingAs[2]})`
  const segments = text.split('.')
  if (!segments.every((s) => IDENT.test(s) || CAST.test(s)) || !IDENT.test(segments[0]!)) return undefined
  return segments
}

function castTarget(part: string): string | undefined {
  return CAST.exec(part.slice(part.lastIndexOf('.') + 1))?.[1]
}

function stripParens(text: string): string {
  while (text.startsWith('(') && text.endsWith(')') && isBalanced(text.slice(1, -1))) text = text.slice(1, -1).trim()
  return text
}

function isBalanced(inner: string): boolean {
  let depth = 0
  for (const c of inner) {
    if (c === '(') depth++
    else if (c === ')' && --depth < 0) return false
  }
  return depth === 0
}
