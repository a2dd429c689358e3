import { getElementDefinition } from '@medplum/core'
import type { SearchParamDef } from './search-param-def.js'

const cache = new WeakMap<SearchParamDef, Map<string, boolean>>()

/**
 * Whether a date parameter has at most one index row per resource of `resourceType`: its expression,
 * for that type, is one plain path (`Observation.effective`, `Patient.birthDate`) through elements
 * of cardinality 0..1. The date indexer writes at most one row per element (a Timing is its outer
 * limits, date.ts), so such a parameter has at most one row. Anything less plain (unions, `where`,
 * `as`, extensions, repeating elements) answers false, which is always correct.
 * Two things rest on it: search tests repeated `date=` clauses together on that row
 * (search/where.ts), and `_sort` orders by that row itself (search/compile.ts), so the indexer
 * writes no search_sort row for such a parameter (extract.ts). Both sides ask with the same
 * definition, so they always agree.
 */
export function isSingleValuedDate(resourceType: string, def: SearchParamDef): boolean {
  if (def.type !== 'date' || !def.expression || def.components) return false
  let byType = cache.get(def)
  if (!byType) cache.set(def, (byType = new Map()))
  let answer = byType.get(resourceType)
  if (answer === undefined) byType.set(resourceType, (answer = plainSingleDatePath(resourceType, def.expression)))
  return answer
}

function plainSingleDatePath(resourceType: string, expression: string): boolean {
  const branches = expression.split('|').map((b) => b.trim()).filter((b) => b.startsWith(`${resourceType}.`))
  if (branches.length !== 1) return false
  const steps = branches[0]!.slice(resourceType.length + 1).split('.')
  let type = resourceType
  for (const step of steps) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(step)) return false
    const element = getElementDefinition(type, step)
    if (!element || element.max !== 1 || element.isArray) return false
    // The next step is looked up on the element's one type; backbone elements have no type of their own here.
    const [only, ...more] = element.type.map((t) => t.code)
    type = more.length || only === 'BackboneElement' || only === 'Element' ? '' : (only ?? '')
  }
  return true
}
