import type { TypedValue } from '@medplum/core'
import type { Resource } from '@medplum/fhirtypes'
import { indexDateValue } from './date.js'
import { indexFullText } from './full-text.js'
import { typedResource } from './expression.js'
import type { IndexContext } from './index-context.js'
import { indexNearValue } from './near.js'
import { indexNumberValue } from './number.js'
import { indexQuantityValue } from './quantity.js'
import { indexReferenceValue } from './reference.js'
import type { SearchParamDef, SearchParamType, TypeSearchParams } from './registry.js'
import { IndexRows } from './rows.js'
import { isSingleValuedDate } from './single-valued-date.js'
import { indexStringValue } from './string.js'
import { indexTokenValue } from './token.js'
import { addUnionAliasRows } from './union-alias-rows.js'
import { addContainedRows, containedTypes } from './contained.js'
import { indexUriValue } from './uri.js'

type ValueIndexer = (rows: IndexRows, param: string, ord: number, value: TypedValue, ctx: IndexContext, options: { sortable: boolean }) => void

const INDEXERS: Partial<Record<SearchParamType, ValueIndexer>> = {
  string: (rows, param, ord, value, _ctx, options) => indexStringValue(rows, param, ord, value, options),
  token: (rows, param, ord, value, _ctx, options) => indexTokenValue(rows, param, ord, value, options),
  uri: (rows, param, ord, value, _ctx, options) => indexUriValue(rows, param, ord, value, options),
  date: (rows, param, ord, value, _ctx, options) => indexDateValue(rows, param, ord, value, options),
  number: (rows, param, ord, value, _ctx, options) => indexNumberValue(rows, param, ord, value, options),
  quantity: (rows, param, ord, value, _ctx, options) => indexQuantityValue(rows, param, ord, value, options),
  reference: indexReferenceValue,
  special: (rows, param, ord, value) => indexNearValue(rows, param, ord, value),
}

/** Composite elements beyond this ordinal are not indexed (ord is a smallint). */
const MAX_COMPOSITE_ELEMENTS = 1000

/**
 * Resource → the index rows of every search parameter of its type
 * (https://hl7.org/fhir/R4/search.html). Composite parameters write their component rows under
 * `<code>#<i>` with `ord` = the element's ordinal, so a search matches both parts on one element;
 * a component that is an alias of a plain parameter (composite-alias.ts) writes nothing, search
 * reads that parameter's rows (plain parameters are at ord 0, as is a root composite's one element).
 * An expression that throws on odd data indexes nothing for that parameter rather than failing the write.
 * Contained resources add rows of their own under the container's key (contained.ts); a resource
 * without any pays one `contained?.length` test for them.
 */
export function extractIndexRows(params: TypeSearchParams, resource: Resource, ctx: IndexContext): IndexRows {
  const rows = new IndexRows()
  const contained = 'contained' in resource && resource.contained?.length ? resource.contained : undefined
  const context = contained ? { ...ctx, contained: containedTypes(contained) } : ctx
  addParamRows(rows, params, resource, context, { isContained: false })
  // `_text` / `_content` have no expression: their words come from the narrative and every string.
  indexFullText(rows, resource)
  if (contained) {
    addContainedRows(rows, contained, (type, inner) => {
      const scratch = new IndexRows()
      addParamRows(scratch, ctx.registry.forType(type), inner, context, { isContained: true })
      return scratch
    })
  }
  return rows
}

/**
 * The rows of each indexed parameter. A contained resource (`isContained`) skips composites: their
 * rows pair components on `ord`, which for contained rows names the contained resource instead.
 */
function addParamRows(rows: IndexRows, params: TypeSearchParams, resource: Resource, ctx: IndexContext, options: { isContained: boolean }) {
  const input = typedResource(resource)
  for (const def of params.indexed) {
    if (options.isContained && def.components) continue
    if (def.rootKeys && !hasAnyKey(resource, def.rootKeys)) continue
    const values = evaluate(def, input)
    if (!values.length) continue
    if (def.components) {
      indexComposite(rows, def, values, ctx)
      continue
    }
    const indexer = INDEXERS[def.type]
    if (!indexer) continue
    if (def.union) {
      // A union of other parameters (union-alias.ts): their rows are its rows; only its sort key and
      // what they cannot hold are its own.
      addUnionAliasRows(rows, def, (scratch) => values.forEach((value) => indexer(scratch, def.code, 0, value, ctx, { sortable: true })))
      continue
    }
    // A one-row date parameter sorts on its search_date row (search/compile.ts): a search_sort row
    // would repeat the same range, with three more indexes to write.
    const sortable = !isSingleValuedDate(params.resourceType, def)
    for (const value of values) indexer(rows, def.code, 0, value, ctx, { sortable })
  }
}

function indexComposite(rows: IndexRows, def: SearchParamDef, elements: TypedValue[], ctx: IndexContext) {
  const components = def.components ?? []
  elements.slice(0, MAX_COMPOSITE_ELEMENTS).forEach((element, ord) => {
    const values = components.map((component) => safely(() => component.evaluate(element)))
    // An element lacking one of the parts can never match the composite: write none of its rows.
    if (values.some((v) => !v.length)) return
    components.forEach((component, i) => {
      const indexer = INDEXERS[component.type]
      if (!indexer || component.alias !== undefined) return
      for (const value of values[i]!) indexer(rows, `${def.code}#${i}`, ord, value, ctx, { sortable: false })
    })
  })
}

function hasAnyKey(resource: object, keys: readonly string[]): boolean {
  for (const key of keys) if ((resource as Record<string, unknown>)[key] !== undefined) return true
  return false
}

function evaluate(def: SearchParamDef, input: TypedValue): TypedValue[] {
  return def.evaluate ? safely(() => def.evaluate!(input)) : []
}

function safely(run: () => TypedValue[]): TypedValue[] {
  try {
    return run()
  } catch {
    return []
  }
}
