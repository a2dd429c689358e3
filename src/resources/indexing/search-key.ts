import { createHash } from 'node:crypto'

/**
 * The int8 key of a (tenant, type, param) that leads the lookup indexes of the value tables
 * (migrations/0019_lookup_key.sql): the first 8 bytes of md5('<tenant>|<type>|<param>') read as a
 * signed big-endian integer, in decimal. search_key() in SQL computes the same (a test holds the
 * two equal). Computed here, so that writers send it as one array per table instead of PostgreSQL
 * hashing every row, and readers give the planner a constant, which its statistics can estimate.
 */
export function searchKey(tenant: string, type: string, param: string): string {
  return keysOf(tenant, type)(param)
}

/** The keys of one tenant's type, by param (cached: a server sees a bounded set of them). */
function keysOf(tenant: string, type: string): (param: string) => string {
  const scope = `${tenant}|${type}|`
  let keys = cache.get(scope)
  if (!keys) {
    if (cache.size >= CACHE_LIMIT) cache.clear()
    keys = new Map()
    cache.set(scope, keys)
  }
  const known = keys
  return (param) => {
    let key = known.get(param)
    if (key === undefined) {
      key = createHash('md5').update(scope + param).digest().readBigInt64BE(0).toString()
      known.set(param, key)
    }
    return key
  }
}

/** Tenant-and-type scopes kept; past it the cache starts again (keys are cheap to recompute). */
const CACHE_LIMIT = 10_000
const cache = new Map<string, Map<string, string>>()

/** An int8[] literal of the keys of `params`, row i of type `typeOf(i)`: a writer's `pkey` column. */
export function keyArray(tenant: string, typeOf: (row: number) => string, params: readonly string[]): string {
  let out = '{'
  let lastType: string | undefined
  let keys: ((param: string) => string) | undefined
  for (let i = 0; i < params.length; i++) {
    const type = typeOf(i)
    if (type !== lastType) {
      keys = keysOf(tenant, type)
      lastType = type
    }
    if (i > 0) out += ','
    out += keys!(params[i]!)
  }
  return out + '}'
}
