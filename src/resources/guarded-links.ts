import { randomUUID } from 'node:crypto'
import { invalid } from '../errors.js'
import type { AccessPolicy } from './access-policy.js'
import type { SearchPage, SearchQuery } from './types.js'

type Pair = readonly [string, string]

/** A restricted caller's chain or `_has` may reach at most this many resources of the linked type. */
export const MAX_LINKED = 1000

/**
 * Chained parameters and `_has` under an access policy (https://hl7.org/fhir/R4/search.html#chaining):
 * the search engine follows links to resources of another type without the caller's policy, so
 * `Observation?performer:Patient.family=X` would tell a patient token whether another patient
 * is named X. Each link whose target type the policy restricts is resolved first by a search of
 * that type under the same policy (`search`, the guarded one: nested links recurse), and
 * replaced by the ids found: `performer=Patient/a,Patient/b`, `_has:Observation:subject:_id=c,d`.
 * None found: an id nobody has (a random UUID), so the link matches nothing.
 *
 * An untyped chain (`subject.family`) cannot be resolved here, since the target types are the
 * engine's knowledge: under a policy it must name its type (`subject:Patient.family`).
 */
export async function resolveLinks(
  search: (query: SearchQuery) => Promise<SearchPage>,
  access: AccessPolicy,
  params: readonly Pair[],
): Promise<{ params: readonly Pair[]; replaced: ReadonlyMap<string, Pair> }> {
  const replaced = new Map<string, Pair>()
  const restricted = (type: string) => !access.allowsType(type, 'search') || access.searchRestriction(type) !== undefined
  const out: Pair[] = []
  for (const pair of params) {
    const [name, value] = pair
    const link = parseLink(name)
    if (!link || (link.targetType !== undefined && !restricted(link.targetType))) {
      out.push(pair)
      continue
    }
    if (link.targetType === undefined) {
      throw invalid(`Parameter ${name}: with this access token a chained parameter must name its target type, e.g. ${link.code}:Patient.${link.rest}`, { expression: [name] })
    }
    const ids = await idsOf(search, link.targetType, link.rest, value, name)
    const found = ids.length > 0 ? ids : [randomUUID()]
    const rewritten: Pair = link.kind === 'has' ? [`_has:${link.targetType}:${link.code}:_id`, found.join(',')] : [link.code, found.map((id) => `${link.targetType}/${id}`).join(',')]
    replaced.set(keyOf(rewritten), pair)
    out.push(rewritten)
  }
  return { params: out, replaced }
}

export const keyOf = ([name, value]: Pair): string => `${name}\u0000${value}`

type Link = { kind: 'chain' | 'has'; code: string; targetType: string | undefined; rest: string }

/** `ref[:Type].rest` or `_has:Type:ref:rest`; undefined for any other parameter. */
function parseLink(name: string): Link | undefined {
  if (name.startsWith('_has:')) {
    const [, type, code, ...rest] = name.split(':')
    if (!type || !code || rest.length === 0) return undefined
    return { kind: 'has', code, targetType: type, rest: rest.join(':') }
  }
  const dot = name.indexOf('.')
  if (dot <= 0) return undefined
  const [code = '', qualifier] = name.slice(0, dot).split(':')
  return { kind: 'chain', code, targetType: qualifier, rest: name.slice(dot + 1) }
}

async function idsOf(search: (query: SearchQuery) => Promise<SearchPage>, resourceType: string, rest: string, value: string, name: string): Promise<string[]> {
  const page = await search({ resourceType, params: [[rest, value], ['_count', String(MAX_LINKED)], ['_total', 'none']] })
  if (page.next) throw invalid(`Parameter ${name}: more than ${MAX_LINKED} ${resourceType} resources match; narrow the value`, { expression: [name] })
  return page.entries.map((e) => e.id)
}
