import { invalid } from '../../errors.js'
import type { SearchParamRegistry } from '../indexing/registry.js'
import { isResourceType } from '../validation/index.js'

/**
 * One `_include` / `_revinclude` directive (https://hl7.org/fhir/R4/search.html#include), resolved
 * against the registry: `Source:param[:Target]`, `Source:*` (every reference parameter of Source),
 * or a bare `*` for `_include` (every reference parameter of whatever type is in the result).
 */
export interface IncludeSpec {
  readonly reverse: boolean
  /** `:iterate` (or R3 `:recurse`): also applied to included resources, round after round. */
  readonly iterate: boolean
  /** The type holding the reference; undefined for a bare `*` (any type in the result). */
  readonly sourceType?: string
  /** Reference parameter codes of sourceType; undefined for a bare `*`. */
  readonly params?: readonly string[]
  /** Only references to this type. */
  readonly targetType?: string
}

export interface ParsedIncludes {
  readonly specs: readonly IncludeSpec[]
  /** The `[name, value]` pairs that were not understood and are ignored (lenient handling). */
  readonly ignored: readonly (readonly [string, string])[]
}

const SYNTAX = /^([A-Za-z]+):([A-Za-z0-9_.\-*]+)(?::([A-Za-z]+))?$/

/**
 * `[name, value]` pairs as the parser kept them → directives. A value that is not
 * `Type:param[:Target]` or `*` is always a 400; an unknown type or parameter, a parameter that is
 * not a reference, or a target the parameter cannot point at is ignored, or a 400 naming it under
 * `Prefer: handling=strict`.
 */
export function parseIncludes(registry: SearchParamRegistry, pairs: readonly (readonly [string, string])[], strict: boolean): ParsedIncludes {
  const specs: IncludeSpec[] = []
  const ignored: (readonly [string, string])[] = []
  for (const pair of pairs) {
    const [name, raw] = pair
    const [base, modifier] = name.split(':') as [string, string | undefined]
    const reverse = base === '_revinclude'
    const iterate = modifier === 'iterate' || modifier === 'recurse'
    for (const value of raw.split(',').map((v) => v.trim()).filter(Boolean)) {
      const problem = resolve(registry, value, reverse, iterate, specs)
      if (problem === undefined) continue
      if (strict) throw invalid(`${name}=${value.slice(0, 100)}: ${problem}`, { expression: [name], messageId: 'MSG_PARAM_UNKNOWN' })
      ignored.push(pair)
      break
    }
  }
  return { specs, ignored }
}

/** Adds the directive to `specs`, or returns why it is not understood. */
function resolve(registry: SearchParamRegistry, value: string, reverse: boolean, iterate: boolean, specs: IncludeSpec[]): string | undefined {
  if (value === '*') {
    // A reverse wildcard would have to scan every type's references to the results: not offered.
    if (reverse) return 'the bare wildcard is not supported for _revinclude; name the type (`Type:*` or `Type:param`)'
    specs.push({ reverse, iterate })
    return undefined
  }
  const m = SYNTAX.exec(value)
  if (!m) {
    throw invalid(`'${value.slice(0, 100)}' is not an include directive: use Type:param, Type:param:TargetType, Type:* or *`, {
      expression: [reverse ? '_revinclude' : '_include'],
    })
  }
  const [, sourceType, code, targetType] = m as unknown as [string, string, string, string | undefined]
  if (!isResourceType(sourceType)) return `'${sourceType}' is not a resource type`
  if (targetType !== undefined && !isResourceType(targetType)) return `'${targetType}' is not a resource type`
  const params = registry.forType(sourceType)
  if (code === '*') {
    const all = [...params.byCode.values()].filter((d) => d.type === 'reference' && d.evaluate && (!targetType || !d.targets?.length || d.targets.includes(targetType)))
    specs.push({ reverse, iterate, sourceType, params: all.map((d) => d.code), targetType })
    return undefined
  }
  const def = params.byCode.get(code)
  if (!def || !def.evaluate) return `'${code}' is not a search parameter of ${sourceType}`
  if (def.type !== 'reference') return `'${code}' of ${sourceType} is a ${def.type} parameter, not a reference`
  if (targetType && def.targets?.length && !def.targets.includes(targetType)) return `${sourceType}:${code} never refers to a ${targetType}`
  specs.push({ reverse, iterate, sourceType, params: [code], targetType })
  return undefined
}
