import type { TypedValue } from '@medplum/core'
import type { IndexContext } from './index-context.js'
import { clip } from './normalize.js'
import { parseReferenceString } from './reference-target.js'
import type { IndexRows } from './rows.js'
import { indexTokenValue } from './token.js'

/**
 * reference parameters (https://hl7.org/fhir/R4/search.html#reference). A local reference (`Type/id`,
 * or an absolute URL under this tenant's base) is stored as (Type, id); any other URL, `urn:uuid:`,
 * and canonicals (without their `|version`) as (NULL, url). Reference.identifier goes to the token
 * table under `<param>:identifier` for the `:identifier` modifier. A contained reference `#x` is
 * stored as (x's type, `#x`) when the resource contains x (ctx.contained), so that a chain can
 * follow it into x (https://hl7.org/fhir/R4/search.html#contained; search/contained-chain.ts); no
 * resource id starts with `#`, so no other search can mistake it for a resource. Otherwise not indexed.
 *
 * No search_sort row: `_sort` on a reference reads its key from these rows at query time
 * (compile.ts). `_options` stays because extract.ts passes `{ sortable }` to every indexer.
 */
export function indexReferenceValue(rows: IndexRows, param: string, ord: number, typed: TypedValue, ctx: IndexContext, _options?: { sortable: boolean }) {
  const { value } = typed
  if (typeof value === 'string') {
    if (value) rows.addReference(param, ord, null, clip(value.split('|')[0]!))
    return
  }
  if (typeof value !== 'object' || value === null) return
  const v = value as { reference?: unknown; identifier?: unknown; resourceType?: unknown; id?: unknown }
  if (typeof v.resourceType === 'string' && typeof v.id === 'string') return rows.addReference(param, ord, v.resourceType, v.id)
  if (typeof v.reference === 'string' && v.reference.startsWith('#')) {
    const type = ctx.contained?.get(v.reference.slice(1))
    if (type) rows.addReference(param, ord, type, v.reference)
  } else if (typeof v.reference === 'string' && v.reference !== '') {
    const local = localTarget(v.reference, ctx)
    if (local) rows.addReference(param, ord, local.type, local.id)
    else rows.addReference(param, ord, null, clip(v.reference))
  }
  if (typeof v.identifier === 'object' && v.identifier !== null) {
    indexTokenValue(rows, `${param}:identifier`, ord, { type: 'Identifier', value: v.identifier })
  }
}

function localTarget(reference: string, ctx: IndexContext): { type: string; id: string } | undefined {
  const parsed = parseReferenceString(reference)
  if (!parsed.type || !parsed.id) return undefined
  if (parsed.isRelative) return { type: parsed.type, id: parsed.id }
  if (!ctx.localBase || !reference.startsWith(ctx.localBase)) return undefined
  const rest = parseReferenceString(reference.slice(ctx.localBase.length))
  return rest.isRelative && rest.type && rest.id ? { type: rest.type, id: rest.id } : undefined
}
