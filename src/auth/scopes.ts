/**
 * SMART on FHIR resource scopes, v1 and v2.
 * https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html
 */

export type ScopeContext = 'patient' | 'user' | 'system'
/** SMART v2 interaction letters: create, read, update, delete, search. */
export type ScopeLetter = 'c' | 'r' | 'u' | 'd' | 's'

export interface ScopeGrant {
  context: ScopeContext
  /** A resource type, or '*' for every type. */
  resourceType: string
  interactions: ReadonlySet<ScopeLetter>
  /**
   * A v2 granular scope's query (`category=vital-signs` in `patient/Observation.rs?category=vital-signs`):
   * every parameter must match (AND), any of a parameter's comma-separated values may (OR).
   * Absent for unrestricted grants.
   */
  filter?: readonly ScopeFilterParam[]
}

export interface ScopeFilterParam {
  name: string
  values: readonly string[]
}

const LETTERS: readonly ScopeLetter[] = ['c', 'r', 'u', 'd', 's']
const V1_ACTIONS: ReadonlyMap<string, readonly ScopeLetter[]> = new Map([
  ['read', ['r', 's']],
  ['write', ['c', 'u', 'd']],
  ['*', LETTERS],
])
// v2 letters must appear in c-r-u-d-s order, each at most once (".rs" yes, ".sr" no).
const V2_ACTION = /^c?r?u?d?s?$/
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]*)\.([a-z*]+)(?:\?(.+))?$/
// A granular query: name=value pairs joined by &, names as in search (`category`, `code:in`).
const FILTER_PARAM = /^([A-Za-z_][A-Za-z0-9_-]*(?::[A-Za-z-]+)?)=(.+)$/

/**
 * Parses one resource scope, or returns undefined for anything else: non-resource scopes
 * (openid, fhirUser, launch, offline_access…) and malformed ones. A v2 granular scope keeps its
 * query as `filter` (enforced per resource by the access policy); a query on a v1 scope or on
 * `*` is malformed, so that scope is dropped rather than widened.
 */
export function parseScope(scope: string): ScopeGrant | undefined {
  const match = RESOURCE_SCOPE.exec(scope)
  if (!match) return undefined
  const [, context, resourceType, action, query] = match as unknown as [string, ScopeContext, string, string, string | undefined]
  const isV1 = V1_ACTIONS.has(action)
  const letters = V1_ACTIONS.get(action) ?? (V2_ACTION.test(action) ? ([...action] as ScopeLetter[]) : undefined)
  if (!letters || letters.length === 0) return undefined
  if (query === undefined) return { context, resourceType, interactions: new Set(letters) }
  if (isV1 || resourceType === '*') return undefined
  const filter = parseFilter(query)
  return filter ? { context, resourceType, interactions: new Set(letters), filter } : undefined
}

function parseFilter(query: string): ScopeFilterParam[] | undefined {
  const params: ScopeFilterParam[] = []
  for (const part of query.split('&')) {
    const match = FILTER_PARAM.exec(part)
    if (!match) return undefined
    let values: string[]
    try {
      values = decodeURIComponent(match[2]!).split(',')
    } catch {
      return undefined
    }
    if (values.some((v) => v.length === 0)) return undefined
    params.push({ name: match[1]!, values })
  }
  return params
}

const formatFilter = (filter: readonly ScopeFilterParam[]): string => filter.map((p) => `${p.name}=${p.values.join(',')}`).join('&')

/** Parses a space-separated scope string into resource grants, ignoring scopes that grant no resource access. */
export function parseScopes(scope: string): ScopeGrant[] {
  return splitScope(scope).flatMap((s) => parseScope(s) ?? [])
}

export const splitScope = (scope: string): string[] => scope.split(/\s+/).filter((s) => s.length > 0)

/** Formats a grant as a v2 scope (`system/Patient.rs`, `patient/Observation.rs?category=vital-signs`). */
export const formatScope = (grant: ScopeGrant): string =>
  `${grant.context}/${grant.resourceType}.${LETTERS.filter((l) => grant.interactions.has(l)).join('')}${grant.filter ? `?${formatFilter(grant.filter)}` : ''}`

/**
 * The scope to grant when a client registered for `registered` asks for `requested`
 * (RFC 6749 §3.3: the server may grant less than requested). A requested resource scope is
 * kept verbatim when one registered scope covers it (SMART wildcards included: `system/*.*`
 * covers any system scope), otherwise it is narrowed to what the registered scopes allow, in
 * v2 form. Other scopes (openid, launch…) are granted only when registered verbatim.
 * Returns '' when nothing can be granted.
 */
export function narrowScope(requested: string, registered: string): string {
  const registeredScopes = splitScope(registered)
  const registeredGrants = registeredScopes.flatMap((s) => parseScope(s) ?? [])
  const granted: string[] = []
  for (const scope of splitScope(requested)) {
    const want = parseScope(scope)
    if (!want) {
      if (registeredScopes.includes(scope)) granted.push(scope)
      continue
    }
    const candidates = registeredGrants.filter(
      (have) => have.context === want.context && (have.resourceType === '*' || want.resourceType === '*' || have.resourceType === want.resourceType),
    )
    if (candidates.some((have) => covers(have, want))) {
      granted.push(scope)
      continue
    }
    for (const have of candidates) {
      const interactions = new Set([...want.interactions].filter((l) => have.interactions.has(l)))
      if (interactions.size === 0) continue
      const resourceType = want.resourceType === '*' ? have.resourceType : want.resourceType
      // Both filters must hold: their parameters are ANDed.
      const filter = have.filter || want.filter ? [...(have.filter ?? []), ...(want.filter ?? [])] : undefined
      if (filter && resourceType === '*') continue
      granted.push(formatScope({ context: want.context, resourceType, interactions, ...(filter ? { filter } : {}) }))
    }
  }
  return [...new Set(granted)].join(' ')
}

const covers = (have: ScopeGrant, want: ScopeGrant): boolean =>
  (have.resourceType === '*' || have.resourceType === want.resourceType) &&
  [...want.interactions].every((l) => have.interactions.has(l)) &&
  (!have.filter || (want.filter !== undefined && formatFilter(have.filter) === formatFilter(want.filter)))
