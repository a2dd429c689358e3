import type { Resource } from '@medplum/fhirtypes'
import { IndexRows } from './rows.js'

/**
 * Index rows of contained resources (https://hl7.org/fhir/R4/search.html#contained), written under
 * the CONTAINER's key (tenant, container type, container id) in the ordinary index tables, so every
 * path that replaces or deletes a resource's index rows (create, update, patch, delete, bulk,
 * transactions, $reindex) replaces or deletes them with it, with no statement of its own:
 * - one marker row per contained resource in search_token: param `<Type>#`, code = its id,
 *   ord = its position in `contained`;
 * - its parameters' rows with param `<Type>#<code>` and the same ord (a search ANDs clauses on one
 *   contained resource by that ord).
 * Real parameter codes never contain `#` (search-param-check.ts allows letters, digits, `-`, `_`);
 * composite component rows are `<code>#<digit>`, and no parameter code is a resource type name
 * followed by `#` and a code, so neither kind of row can be mistaken for the other.
 * Composites, sort keys and full text are not indexed for contained resources (search refuses
 * them with `_contained`): composite rows pair on `ord`, which here names the contained resource.
 */

/** At most this many contained resources of one container are indexed (`ord` is a smallint). */
export const MAX_INDEXED_CONTAINED = 1000

/** The marker row's param: one row per contained resource of `type`. */
export const containedMarkerParam = (type: string): string => `${type}#`

/** The param of a contained `type` resource's rows of parameter `code`. */
export const containedParam = (type: string, code: string): string => `${type}#${code}`

/** id → type of the contained resources (the first one wins for a repeated id, as a `#id` reference resolves). */
export function containedTypes(contained: readonly Resource[]): ReadonlyMap<string, string> {
  const types = new Map<string, string>()
  for (const c of contained) if (isIndexable(c) && !types.has(c.id)) types.set(c.id, c.resourceType)
  return types
}

/**
 * Adds each contained resource's marker and rows; `extract` gives the rows of one contained
 * resource as a resource of its type (the registry's parameters for that type).
 */
export function addContainedRows(rows: IndexRows, contained: readonly Resource[], extract: (type: string, resource: Resource) => IndexRows): void {
  const seen = new Set<string>()
  contained.slice(0, MAX_INDEXED_CONTAINED).forEach((c, ord) => {
    if (!isIndexable(c) || seen.has(c.id)) return
    seen.add(c.id)
    rows.addToken(containedMarkerParam(c.resourceType), ord, { system: null, code: c.id, display: null })
    rows.appendPrefixed(extract(c.resourceType, c), containedParam(c.resourceType, ''), ord)
  })
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/
const TYPE = /^[A-Z][A-Za-z]{1,63}$/

function isIndexable(c: Resource | undefined): c is Resource & { id: string } {
  return typeof c?.resourceType === 'string' && TYPE.test(c.resourceType) && typeof c.id === 'string' && ID.test(c.id)
}
