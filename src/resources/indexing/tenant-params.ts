import { CompiledQuery, type Kysely } from 'kysely'
import type { SearchParameter } from '@medplum/fhirtypes'
import type { Database } from '../../db/database.js'
import type { SearchParamRegistry } from './registry.js'

/**
 * Which of a tenant's SearchParameter versions exist: the number of its SearchParameter history
 * rows and the newest `seq`. History is append-only, so every committed create/update/delete of a
 * SearchParameter — through any write path, on any server instance — changes the count. (`max(seq)`
 * alone would not do: identities are handed out before commit, so a transaction holding a lower
 * seq can commit after a higher one has been seen.) An index-only scan of resource_history_type.
 */
const KEY_SQL =
  "select count(*)::int as n, max(seq)::text as s from resource_history where tenant_id = $1 and resource_type = 'SearchParameter'"

const DEFINITIONS_SQL = "select content from resource where tenant_id = $1 and resource_type = 'SearchParameter' and not deleted"

/** SearchParameter statuses that are in force (https://hl7.org/fhir/R4/valueset-publication-status.html): not `retired`. */
const IN_FORCE = new Set(['active', 'draft'])

interface Entry {
  readonly key: string
  readonly registry: SearchParamRegistry
  checkedAt: number
}

export interface TenantSearchParamsOptions {
  /**
   * How long a tenant's registry is used without asking the database whether its SearchParameters
   * moved (ms). The instance that writes a SearchParameter drops its copy at once; other
   * instances see the change within this time. 0 asks on every write and search.
   */
  readonly refreshMs?: number
  readonly now?: () => number
}

/** How long, by default, another instance may keep using a tenant's previous parameters. */
export const DEFAULT_REFRESH_MS = 1000

/**
 * The search parameters in force per tenant: the base registry extended by the tenant's own
 * `SearchParameter` resources (status active or draft). Cached per tenant; a cached registry is
 * used for `refreshMs`, then revalidated with one cheap query (KEY_SQL) and rebuilt only when the
 * tenant's SearchParameter history moved. A tenant without custom parameters shares the base
 * registry. Concurrent requests of one tenant share one revalidation.
 */
export class TenantSearchParams {
  private readonly entries = new Map<string, Entry>()
  private readonly pending = new Map<string, Promise<SearchParamRegistry>>()
  /** Bumped by `invalidate`: a revalidation that started before must not re-cache what it read. */
  private readonly generations = new Map<string, number>()
  private readonly refreshMs: number
  private readonly now: () => number

  constructor(
    readonly base: SearchParamRegistry,
    options: TenantSearchParamsOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS
    this.now = options.now ?? Date.now
  }

  /** The tenant's registry, revalidated against the database when older than `refreshMs`. */
  registryFor(db: Kysely<Database>, tenantId: string): Promise<SearchParamRegistry> {
    const entry = this.entries.get(tenantId)
    if (entry && this.now() - entry.checkedAt < this.refreshMs) return Promise.resolve(entry.registry)
    // A transaction's connection is not shared with other requests' revalidations (its failure
    // would fail theirs); what it reads (no SearchParameter of its own) is still worth caching.
    if (db.isTransaction) return this.revalidate(db, tenantId, entry)
    let pending = this.pending.get(tenantId)
    if (!pending) {
      pending = this.revalidate(db, tenantId, entry).finally(() => this.pending.delete(tenantId))
      this.pending.set(tenantId, pending)
    }
    return pending
  }

  /**
   * The tenant's registry as `db` sees it now, bypassing (and not filling) the cache: for a
   * transaction that wrote SearchParameters not yet committed, which only it may see.
   */
  async uncachedRegistryFor(db: Kysely<Database>, tenantId: string): Promise<SearchParamRegistry> {
    return this.build(await loadDefinitions(db, tenantId))
  }

  /** Drops the tenant's registry: called after this instance committed a SearchParameter change. */
  invalidate(tenantId: string): void {
    this.entries.delete(tenantId)
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1)
  }

  private async revalidate(db: Kysely<Database>, tenantId: string, entry: Entry | undefined): Promise<SearchParamRegistry> {
    const generation = this.generations.get(tenantId) ?? 0
    const checkedAt = this.now()
    const key = await readKey(db, tenantId)
    if (entry && entry.key === key) {
      entry.checkedAt = checkedAt
      return entry.registry
    }
    const registry = key === EMPTY_KEY ? this.base : this.build(await loadDefinitions(db, tenantId))
    if ((this.generations.get(tenantId) ?? 0) === generation) this.entries.set(tenantId, { key, registry, checkedAt })
    return registry
  }

  private build(definitions: readonly SearchParameter[]): SearchParamRegistry {
    return definitions.length ? this.base.extend(definitions) : this.base
  }
}

/** The key of a tenant that never had a SearchParameter. */
const EMPTY_KEY = '0:'

async function readKey(db: Kysely<Database>, tenantId: string): Promise<string> {
  const { rows } = await db.executeQuery(CompiledQuery.raw(KEY_SQL, [tenantId]))
  const row = rows[0] as { n: number; s: string | null } | undefined
  return `${row?.n ?? 0}:${row?.s ?? ''}`
}

/** The tenant's SearchParameters in force, in a stable order (by id) so "a later one wins" is deterministic. */
async function loadDefinitions(db: Kysely<Database>, tenantId: string): Promise<SearchParameter[]> {
  const { rows } = await db.executeQuery(CompiledQuery.raw(DEFINITIONS_SQL, [tenantId]))
  return (rows as { content: string }[])
    .map((r) => JSON.parse(r.content) as SearchParameter)
    .filter((sp) => IN_FORCE.has(sp.status ?? ''))
    .sort((a, b) => ((a.id ?? '') < (b.id ?? '') ? -1 : 1))
}
