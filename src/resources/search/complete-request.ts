import type { Kysely } from 'kysely'
import type { Database } from '../../db/database.js'
import { expandCodeSets } from './code-sets.js'
import { compartmentFilter } from './compartments.js'
import { markContainedChains } from './contained-chain.js'
import type { SearchFilter, SearchRequest } from './types.js'

/**
 * What a parsed request still needs before planning: the compartment of a compartment search as one
 * more filter, the token `:in` / `:below` values expanded from the tenant's terminology, and the chain
 * targets the tenant holds contained resources of (the only parts of a search request that read the
 * database before the query itself; each skipped when unused).
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
  // Chains also follow `#id` references into contained resources the tenant holds (contained-chain.ts).
  return { ...request, clauses: await markContainedChains(db, tenantId, expanded) }
}

function usesCodeSets(filter: SearchFilter): boolean {
  switch (filter.kind) {
    case 'param': return filter.values.some((v) => v.kind === 'code-set')
    case 'chain': return filter.targets.some((t) => usesCodeSets(t.filter))
    case 'has': return usesCodeSets(filter.filter)
    default: return false
  }
}
