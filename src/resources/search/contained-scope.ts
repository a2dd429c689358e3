import { sql, type RawBuilder } from 'kysely'
import { containedMarkerParam } from '../indexing/contained.js'
import { R4_RESOURCE_TYPES } from '../validation/index.js'
import { andKey } from './lookup-key.js'
import type { RowScope } from './scope.js'
import type { SearchFilter } from './types.js'

/**
 * The types that can hold contained resources (DomainResource: all but Bundle, Binary, Parameters).
 * A contained search does not know its containers' types, and the lookup indexes begin with the key
 * of (tenant, type, param): the keys of all these types keep its probes index ranges.
 */
export const CONTAINER_TYPES: readonly string[] = R4_RESOURCE_TYPES.filter((t) => t !== 'Bundle' && t !== 'Binary' && t !== 'Parameters')

/** The scope of a contained `type` resource whose marker row (indexing/contained.ts) is `alias`. */
export function containedScope(tenantId: string, alias: string, type: string): RowScope {
  return { tenantId, alias, type: {}, contained: { type } }
}

/**
 * Why `filter` cannot be evaluated on a contained resource, or undefined when it can. Contained
 * resources have no lastUpdated of their own, no composite, full-text or sort rows (indexing/contained.ts),
 * and nothing outside their container refers to them (`_has`, `_list`, compartments).
 */
export function containedUnsupported(filter: SearchFilter): string | undefined {
  switch (filter.kind) {
    case 'param':
      if (filter.def.column === 'lastUpdated') return 'contained resources have no lastUpdated of their own'
      if (filter.def.components) return 'composite parameters are not indexed for contained resources'
      return undefined
    case 'chain':
      return undefined
    case 'has':
      return '_has does not reach contained resources'
    case 'text':
      return `${filter.name} is not indexed for contained resources`
    case 'list':
      return '_list does not reach contained resources'
    case 'compartment':
      return 'compartment searches do not reach contained resources'
  }
}

/**
 * `m.tenant_id = .. AND m.param = '<type>#' AND m.pkey = ANY(..)`: marker rows of contained `type`
 * resources in any container type, one range of the lookup index per container type (its key).
 */
export function markerRows(tenantId: string, m: string, type: string): RawBuilder<unknown> {
  const a = (c: string) => sql.raw(`${m}.${c}`)
  const marker = containedMarkerParam(type)
  return sql`${a('tenant_id')} = ${tenantId} AND ${a('param')} = ${marker}${andKey('search_token', m, tenantId, CONTAINER_TYPES, [marker])}`
}
