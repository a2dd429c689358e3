import { forbidden, invalid } from '../../errors.js'
import type { RequestScope } from '../types.js'
import { containedUnsupported } from './contained-scope.js'
import type { SearchRequest } from './types.js'

/**
 * What a `_contained=true|both` search (https://hl7.org/fhir/R4/search.html#contained) can be asked,
 * checked before anything runs:
 * - not by a token limited within the tenant (patient compartment, granular scopes): the guarded
 *   repository holds results to the policy by the entry's own content, and a contained match's
 *   container can belong to another patient whatever the contained resource says. Refused (403)
 *   rather than filtered, so such a token never sees another patient's data through containers.
 * - not in a compartment search, and only filters a contained resource can answer
 *   (contained-scope.ts); no `_sort` (the page order is container type and id, for keyset paging).
 */
export function checkContainedRequest(scope: RequestScope, request: SearchRequest, compartment: { readonly resourceType: string } | undefined): void {
  if (!request.contained) return
  if (scope.access) {
    throw forbidden('_contained=true|both is not available to an access token limited to a patient compartment or to granular scopes: the containers it would return are not held to those limits. Search without _contained, or use a token for the whole tenant.')
  }
  if (compartment) throw invalid(`_contained=${request.contained.mode} is not supported in a compartment search (${compartment.resourceType}/[id]/...); search the type instead`, { expression: ['_contained'] })
  if (request.sort.length) throw invalid('_sort is not supported with _contained=true|both: contained results are ordered by container', { expression: ['_sort'] })
  for (const filter of request.clauses) {
    const why = containedUnsupported(filter)
    if (why) throw invalid(`Parameter ${filter.name}: not supported with _contained=${request.contained.mode} (${why})`, { expression: [filter.name] })
  }
}
