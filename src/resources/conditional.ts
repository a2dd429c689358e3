import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import type { ConditionalLockTarget } from './repository.js'

/**
 * The SQL side of conditional interactions (https://hl7.org/fhir/R4/http.html#ccreate,
 * #cond-update, #cdelete): transaction-scoped advisory locks that make "search, then write"
 * atomic between concurrent writers of the same thing.
 *
 * The lock rule (what serialises with what):
 * 1. the criteria: hash(tenant, type, criteria with their parameters sorted). Two requests with the
 *    same criteria, in any parameter order, run one after the other;
 * 2. each identifier: hash(tenant, type, identifier value) for every `identifier=[system|]value`
 *    criterion (one value, no modifier) and for every `Identifier.value` of the resource being
 *    written. So `identifier=a|1` and `identifier=a|1&active=true` serialise, and so do two writes
 *    of resources carrying identifier `1` under different criteria. The system is left out of the
 *    key on purpose: `identifier=1` (any system) must meet `identifier=a|1`; two unrelated
 *    identifiers with the same value only wait for each other, which costs time, never correctness.
 * Two different criteria that select the same resource by other parameters (`name=…` vs
 * `birthdate=…`) can still race; that is the documented limit.
 *
 * The locks are `pg_advisory_xact_lock`: held until the surrounding transaction commits or rolls
 * back, so the winner's write is committed (and visible to the loser's READ COMMITTED search,
 * which takes a fresh snapshot per statement) before the loser searches. Keys are taken in one
 * sorted order inside one statement; a deadlock between transactions that lock in several steps
 * (transaction Bundles) is PostgreSQL's 40P01, which `withTransaction` retries, then 409.
 * Works unchanged on embedded PGlite (one session; the lock is then uncontended).
 */

/** The lock keys (signed 64-bit, as decimal strings) of some conditional writes, sorted and distinct. */
export function conditionalLockKeys(tenantId: string, targets: readonly ConditionalLockTarget[]): string[] {
  const names: string[] = []
  for (const { resourceType, criteria, resource } of targets) {
    const normalised = [...criteria].map(([k, v]) => `${k}=${v}`).sort().join('&')
    names.push(`c\u0000${tenantId}\u0000${resourceType}\u0000${normalised}`)
    const identifier = (value: string) => names.push(`i\u0000${tenantId}\u0000${resourceType}\u0000${value}`)
    for (const [name, value] of criteria) {
      if (name !== 'identifier' || value.includes(',')) continue
      const bar = value.indexOf('|')
      const code = bar < 0 ? value : value.slice(bar + 1)
      if (code !== '') identifier(code.replace(/\\(.)/g, '$1'))
    }
    const identifiers = (resource as { identifier?: unknown } | undefined)?.identifier
    if (Array.isArray(identifiers)) {
      for (const item of identifiers) {
        const value = (item as { value?: unknown } | null)?.value
        if (typeof value === 'string' && value !== '') identifier(value)
      }
    }
  }
  return [...new Set(names.map(lockKey))].sort()
}

/** Takes the advisory locks in the caller's transaction (a no-op for no keys). */
export async function takeAdvisoryLocks(db: Kysely<Database>, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  // unnest yields the array in order, so every transaction asks for its keys in the same order.
  await sql`SELECT pg_advisory_xact_lock(k) FROM unnest(${keys}::bigint[]) AS k`.execute(db)
}

function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString()
}
