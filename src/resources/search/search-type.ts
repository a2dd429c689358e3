import type { Kysely } from 'kysely'
import type { Database } from '../../db/database.js'
import { localBaseOf, type SearchConfig } from '../indexing/resource-indexer.js'
import type { RequestScope, SearchPage, SearchQuery } from '../types.js'
import { executeSearch } from './execute.js'
import { prepareIncludes } from './include.js'
import { encodeCursor } from './paging.js'
import { parseSearchRequest } from './parse.js'
import { planSearch } from './plan.js'
import { completeRequest } from './complete-request.js'
import { checkContainedRequest } from './contained-request.js'

/** Type-level search (https://hl7.org/fhir/R4/search.html): parse → plan → compile/execute. */
export async function searchType(db: Kysely<Database>, config: SearchConfig, scope: RequestScope, query: SearchQuery, now: Date): Promise<SearchPage> {
  const params = config.registry.forType(query.resourceType)
  const parsed = parseSearchRequest(params, query.params, { strict: query.strict, localBase: localBaseOf(config, scope.tenantId), now, registry: config.registry })
  checkContainedRequest(scope, parsed, query.compartment)
  const request = await completeRequest(db, scope.tenantId, parsed, query.compartment)
  const includes = prepareIncludes(config.registry, request, query.strict)
  const outcome = await executeSearch(db, planSearch(scope.tenantId, request), request, config)
  return {
    request: includes.request,
    entries: outcome.entries,
    ...(await includes.resolve(db, scope.tenantId, outcome.entries)),
    total: outcome.total,
    next: outcome.next && encodeCursor(outcome.next),
    previous: outcome.previous && encodeCursor(outcome.previous),
  }
}
