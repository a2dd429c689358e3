import type { Kysely } from 'kysely'
import type { Database } from '../../db/database.js'
import { invalid } from '../../errors.js'
import { localBaseOf, type SearchConfig } from '../indexing/resource-indexer.js'
import type { TypeSearchParams } from '../indexing/registry.js'
import type { RequestScope, SearchPage, SystemSearchQuery } from '../types.js'
import { isResourceType } from '../validation/index.js'
import { completeRequest } from './complete-request.js'
import { executeSearch } from './execute.js'
import { prepareIncludes } from './include.js'
import { encodeCursor } from './paging.js'
import { isControlParam, parseSearchRequest, type ParseOptions } from './parse.js'
import { planSearch } from './plan.js'
import type { SearchRequest } from './types.js'

/** Names handled by parse-links.ts for any type: never "defined differently" across `_type`. */
const LINK_PARAMS = /^(_has:|_text$|_content$|_list$)/

/**
 * System-level search (https://hl7.org/fhir/R4/http.html#search, `GET [base]?_type=A,B&...`). Without
 * `_type`, every type and only the common parameters (`_id`, `_lastUpdated`, `_tag`, `_profile`,
 * `_security`, `_source`, `_text`, `_content`, `_list`, `_has`). With `_type`, any parameter every
 * listed type defines with the same code and type (https://hl7.org/fhir/R4/search.html#all): one
 * SearchParameter (`patient` on Observation and Condition) or one per type (`name` on Patient and
 * Practitioner, each type searched by its own definition); a parameter some types lack, or define
 * with another type, is a 400. `_sort` takes `_id` and `_lastUpdated`.
 */
export async function searchSystem(db: Kysely<Database>, config: SearchConfig, scope: RequestScope, query: SystemSearchQuery, now: Date): Promise<SearchPage> {
  const typeText = query.params.filter(([name]) => name === '_type').map(([, v]) => v)
  const types = parseTypes(typeText)
  const rest = query.params.filter(([name]) => name !== '_type')
  const options: ParseOptions = { strict: query.strict, localBase: localBaseOf(config, scope.tenantId), now, registry: config.registry }
  let main: SearchRequest
  let branches: SearchRequest[] | undefined
  if (types) {
    checkSameDefinitions(config, types, rest)
    branches = await Promise.all(types.map((t) => completeRequest(db, scope.tenantId, parseSearchRequest(config.registry.forType(t), rest, options))))
    const first = branches[0]!
    main = { ...first, resourceType: '', system: { types }, used: [['_type', types.join(',')], ...first.used] }
  } else {
    const common = config.registry.forType('Resource')
    const params: TypeSearchParams = { resourceType: '', byCode: common.byCode, indexed: [] }
    main = { ...(await completeRequest(db, scope.tenantId, parseSearchRequest(params, rest, options))), system: {} }
  }
  if (main.contained) throw invalid(`_contained=${main.contained.mode} is supported on type-level searches only ([base]/[type]?_contained=...)`, { expression: ['_contained'] })
  const badSort = main.sort.find((s) => !s.def.column)
  if (badSort) throw invalid(`_sort: a system-level search sorts by _id or _lastUpdated only (got '${badSort.name}')`, { expression: ['_sort'] })
  const includes = prepareIncludes(config.registry, main, query.strict)
  const outcome = await executeSearch(db, planSearch(scope.tenantId, main, branches), main)
  return {
    request: includes.request,
    entries: outcome.entries,
    ...(await includes.resolve(db, scope.tenantId, outcome.entries)),
    total: outcome.total,
    next: outcome.next && encodeCursor(outcome.next),
    previous: outcome.previous && encodeCursor(outcome.previous),
  }
}

function parseTypes(values: readonly string[]): string[] | undefined {
  const types = values.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean)
  if (!types.length) return undefined
  const unknown = types.find((t) => !isResourceType(t))
  if (unknown) throw invalid(`_type: '${unknown.slice(0, 64)}' is not a FHIR R4 resource type`, { expression: ['_type'] })
  return [...new Set(types)]
}

/** A parameter some listed types lack, or define with another parameter type (string, token...), is a 400 naming it. */
function checkSameDefinitions(config: SearchConfig, types: readonly string[], pairs: readonly (readonly [string, string])[]) {
  for (const [name] of pairs) {
    if (isControlParam(name) || LINK_PARAMS.test(name)) continue
    const code = name.split(/[.:]/)[0]!
    const defs = types.map((t) => config.registry.forType(t).byCode.get(code))
    if (defs.every((d) => d === undefined)) continue
    const lacking = types.filter((_, i) => defs[i] === undefined)
    if (lacking.length) {
      throw invalid(`Parameter ${name}: ${lacking.join(', ')} ${lacking.length > 1 ? 'have' : 'has'} no parameter '${code}'; search those types separately or use a common parameter`, { expression: [name] })
    }
    const kinds = [...new Set(defs.map((d) => d!.type))]
    if (kinds.length > 1) {
      const each = types.map((t, i) => `${t} ${defs[i]!.type}`).join(', ')
      throw invalid(`Parameter ${name}: '${code}' is of a different type on each of the listed types (${each}); search those types separately`, { expression: [name] })
    }
  }
}
