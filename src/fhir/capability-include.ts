import { R4_RESOURCE_TYPES, r4SearchParamRegistry } from '../resources/index.js'

/**
 * What `_include` / `_revinclude` accept per type (CapabilityStatement.rest.resource.searchInclude /
 * searchRevInclude, https://hl7.org/fhir/R4/search.html#include): every reference parameter of the
 * type (`Type:param`, plus `Type:*` and `*`), and every `Source:param` whose targets can be the type.
 * `:iterate` and `:recurse` apply to each; the bare `*` is not offered for `_revinclude`.
 */
export function includesOf(type: string): string[] {
  return [...(directives().forward.get(type) ?? []), `${type}:*`, '*']
}

export function revIncludesOf(type: string): string[] {
  return directives().reverse.get(type) ?? []
}

let cached: { forward: Map<string, string[]>; reverse: Map<string, string[]> } | undefined

function directives() {
  if (cached) return cached
  const forward = new Map<string, string[]>()
  const reverse = new Map<string, string[]>()
  for (const source of R4_RESOURCE_TYPES) {
    for (const def of r4SearchParamRegistry().forType(source).byCode.values()) {
      if (def.type !== 'reference' || !def.evaluate) continue
      const directive = `${source}:${def.code}`
      forward.set(source, [...(forward.get(source) ?? []), directive])
      for (const target of def.targets?.length ? def.targets : R4_RESOURCE_TYPES) {
        if (target === 'Resource') continue
        const list = reverse.get(target) ?? []
        list.push(directive)
        reverse.set(target, list)
      }
    }
  }
  cached = { forward, reverse }
  return cached
}
