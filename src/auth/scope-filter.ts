import { evalFhirPath } from '@medplum/core'
import type { Resource } from '@medplum/fhirtypes'
import type { ScopeFilterParam } from './scopes.js'
import type { SearchParams } from './search-params.js'

/**
 * In-memory matching of a SMART v2 granular scope's query against one resource
 * (https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html#finer-grained-resource-constraints-using-search-parameters).
 * Token parameters (category, code, status…) are supported, written `code`, `system|code`,
 * `system|` or `|code`. Anything else — another parameter type, a modifier, a parameter the
 * type does not have — never matches, so an unsupported filter denies rather than widens.
 */
export function matchesFilter(searchParams: SearchParams, resource: Resource, filter: readonly ScopeFilterParam[]): boolean {
  return filter.every((param) => {
    if (param.name.includes(':')) return false
    const definition = searchParams.get(resource.resourceType, param.name)
    if (!definition || definition.type !== 'token') return false
    const codings = definition.expressions.flatMap((e) => evalFhirPath(e, resource)).flatMap(tokensOf)
    return param.values.some((value) => codings.some((c) => tokenMatches(c, value)))
  })
}

interface Token {
  system?: string
  code: string
}

/** The tokens of an element: CodeableConcept codings, a Coding, an Identifier, a code or boolean. */
function tokensOf(value: unknown): Token[] {
  if (typeof value === 'string') return [{ code: value }]
  if (typeof value === 'boolean') return [{ code: String(value) }]
  if (typeof value !== 'object' || value === null) return []
  const v = value as { coding?: unknown; system?: unknown; code?: unknown; value?: unknown }
  if (Array.isArray(v.coding)) return v.coding.flatMap(tokensOf)
  const system = typeof v.system === 'string' ? v.system : undefined
  if (typeof v.code === 'string') return [{ system, code: v.code }]
  if (typeof v.value === 'string') return [{ system, code: v.value }]
  return []
}

function tokenMatches(token: Token, value: string): boolean {
  const bar = value.indexOf('|')
  if (bar < 0) return token.code === value
  const system = value.slice(0, bar)
  const code = value.slice(bar + 1)
  if (system === '') return token.system === undefined && token.code === code
  if (code === '') return token.system === system
  return token.system === system && token.code === code
}
