import type { SearchRestriction } from '../resources/index.js'
import type { PatientCompartment } from './compartment.js'
import type { ScopeFilterParam, ScopeGrant } from './scopes.js'
import type { SearchParams } from './search-params.js'

/**
 * The search restriction of a token for one type: what the search engine can put in the query
 * so that pages and totals are exact (see `SearchRestriction`).
 *
 * The grants that allow searching the type are an OR; each is an AND of "in the token patient's
 * compartment" (a `patient/` grant) and its granular query. A query can express:
 * - the compartment, when every such grant is a `patient/` grant (it is then a common factor);
 * - parameters every grant's query shares, verbatim;
 * - what is left when each grant adds one parameter of the same name (`category=a` OR
 *   `category=b` is `category=a,b`).
 * Anything else (grants whose queries differ in several parameters, or a mix of `patient/` and
 * `user/`/`system/` grants with queries) gives the common part only, marked inexact, and the
 * guarded repository keeps filtering the page.
 */
export function searchRestrictionOf(
  rules: { compartment: PatientCompartment; searchParams: SearchParams },
  grants: readonly ScopeGrant[],
  patient: string | undefined,
  resourceType: string,
): SearchRestriction | undefined {
  const applicable = grants.filter((g) => (g.resourceType === '*' || g.resourceType === resourceType) && g.interactions.has('s'))
  // Grants that can allow nothing are left out of the OR, as `allows` leaves them out.
  const live = applicable.filter(
    (g) =>
      (g.context !== 'patient' || (patient !== undefined && rules.compartment.hasType(resourceType))) &&
      (!g.filter || g.filter.every((p) => isQueryable(rules.searchParams, resourceType, p))),
  )
  if (live.length === 0) return { params: [], exact: false }
  if (live.some((g) => g.context !== 'patient' && !g.filter)) return undefined
  const allPatient = live.every((g) => g.context === 'patient')
  const compartment = allPatient ? { resourceType: 'Patient' as const, id: patient! } : undefined
  const { params, exact } = orOfFilters(live.map((g) => g.filter ?? []))
  if (allPatient) return { compartment, params, exact }
  if (!live.some((g) => g.context === 'patient')) return { params, exact }
  // Mixed patient/ and user|system/ grants: the compartment cannot be a common factor.
  return params.length > 0 ? { params, exact: false } : undefined
}

/** Only token parameters without modifiers match in memory (scope-filter.ts); only they go into the query. */
function isQueryable(searchParams: SearchParams, resourceType: string, param: ScopeFilterParam): boolean {
  return !param.name.includes(':') && searchParams.get(resourceType, param.name)?.type === 'token'
}

/** OR of AND-ed parameter lists, as AND-ed query parameters (exact when expressible). */
function orOfFilters(filters: readonly (readonly ScopeFilterParam[])[]): { params: [string, string][]; exact: boolean } {
  if (filters.some((f) => f.length === 0)) return { params: [], exact: true }
  const keyOf = (p: ScopeFilterParam) => `${p.name}=${[...p.values].sort().join(',')}`
  const [first, ...others] = filters as [readonly ScopeFilterParam[], ...(readonly ScopeFilterParam[])[]]
  const common = first.filter((p) => others.every((f) => f.some((q) => keyOf(q) === keyOf(p))))
  const commonKeys = new Set(common.map(keyOf))
  const params: [string, string][] = common.map((p) => [p.name, p.values.map(escapeValue).join(',')])
  const rest = filters.map((f) => f.filter((p) => !commonKeys.has(keyOf(p))))
  // A grant with nothing beyond the common part covers the others: common ∧ (true ∨ …) = common.
  if (rest.some((r) => r.length === 0)) return { params, exact: true }
  const name = rest[0]![0]?.name
  if (name !== undefined && rest.every((r) => r.length === 1 && r[0]!.name === name)) {
    const values = [...new Set(rest.flatMap((r) => r[0]!.values))]
    return { params: [...params, [name, values.map(escapeValue).join(',')]], exact: true }
  }
  return { params, exact: false }
}

/** A literal value in search syntax (https://hl7.org/fhir/R4/search.html#escaping); `|` keeps its token meaning. */
const escapeValue = (value: string): string => value.replace(/[\\,$]/g, (c) => `\\${c}`)
