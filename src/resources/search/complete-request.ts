import type { Kysely } from 'kysely'
import type { Database } from '../../db/database.js'
import { expandCodeSets } from './code-sets.js'
import { compartmentFilter } from './compartments.js'
import type { SearchFilter, SearchRequest } from './types.js'

/**
 * What a parsed request still needs before planning: the compartment of a compartment search as one
 * more filter, and the token `:in` / `:below` values expanded from the tenant's terminology (the only
 * part of a search request that reads the database before the query itself; skipped when unused).
 */
export async function completeRequest(
  db: Kysely<Database>,
  tenantId: string,
  request: SearchRequest,
  compartment?: { readonly resourceType: string; readonly id: string },
): Promise<SearchRequest> {
  const clauses: SearchFilter[] = [...request.clauses]
  if (compartment) clauses.push(compartmentFilter(compartment, request.resourceType))
  const expanded = clauses.some(usesCodeSets) ? await expandCodeSets(db, tenantId, clauses) : clauses
  return { ...request, clauses: expanded }
}

function usesCodeSets(filter: SearchFilter): boolean {
  switch (filter.kind) {
    case 'param': return filter.values.some((v) => v.kind === 'code-set')
    case 'chain': return filter.targets.some((t) => usesCodeSets(t.filter))
    case 'has': return usesCodeSets(filter.filter)
    default: return false
  }
}
