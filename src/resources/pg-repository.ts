import type { Kysely } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import type { Database } from '../db/database.js'
import { conflict, gone, invalid, notFound, unprocessable } from '../errors.js'
import { conditionalLockKeys, takeAdvisoryLocks } from './conditional.js'
import { indexRowsFor, type SearchConfig } from './indexing/resource-indexer.js'
import { r4SearchParamRegistry, type SearchParamRegistry } from './indexing/registry.js'
import { TenantSearchParams } from './indexing/tenant-params.js'
import { readHistory } from './history.js'
import { reindexResources } from './reindex.js'
import { readEverything } from './everything.js'
import { writeMany } from './bulk-write.js'
import { PlannerStatistics } from './planner-statistics.js'
import { CreateCoalescer } from './create-coalescer.js'
import { insertPrepared, prepareCreate, preparedStored, type PreparedCreate } from './prepared-create.js'
import { applyFhirPathPatch, applyJsonPatch } from './patch/index.js'
import type { PatchDocument, Repository } from './repository.js'
import { ResourceStore, type CurrentVersion } from './resource-store.js'
import { searchType } from './search/search-type.js'
import { searchSystem } from './search/system-search.js'
import { withTransaction } from './transaction.js'
import type { HistoryMethod, RequestScope, StoredResource, WriteOptions, WriteResult } from './types.js'
import { assertValidResource, isResourceType, validateResource } from './validation/index.js'
import { checkIfMatch, idTaken, nextLastUpdated, stampMeta, storedVersion } from './versioning.js'
import { numberTextOf, restoreNumberText } from './number-text.js'

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/
/** Optimistic-concurrency retries for writes without If-Match before answering 409. */
const MAX_WRITE_ATTEMPTS = 20

export interface RepositoryDeps {
  db: Kysely<Database>
  clock?: () => Date
  /** Public server URL (no trailing slash): absolute references under a tenant's base are indexed as local. */
  serverUrl?: string
  /** The search parameters in force; the R4 base ones by default. */
  searchParams?: SearchParamRegistry
  /** How long another instance's SearchParameter change may go unseen here (ms; tenant-params.ts). */
  searchParamRefreshMs?: number
  /** Concurrent plain creates share one multi-row statement (create-coalescer.ts); on unless false. */
  groupCommit?: boolean
  /** False writes no index rows (SearchConfig.indexing: the indexing-cost benchmark only). */
  indexing?: boolean
  /** SearchConfig.idsFirstLimit: tests lower it to reach the plan a chain or `_has` with many matches takes. */
  idsFirstLimit?: number
  /** SearchConfig.hasWalkFrom: tests lower it to reach the walk a `_has` with many matches takes. */
  hasWalkFrom?: number
}

export function createPgRepository(deps: RepositoryDeps): Repository {
  const base = deps.searchParams ?? r4SearchParamRegistry()
  const tenantParams = new TenantSearchParams(base, { refreshMs: deps.searchParamRefreshMs })
  const search: SearchConfig = { registry: base, tenantParams, serverUrl: deps.serverUrl, indexing: deps.indexing, idsFirstLimit: deps.idsFirstLimit, hasWalkFrom: deps.hasWalkFrom }
  const statistics = new PlannerStatistics(deps.db)
  const clock = deps.clock ?? (() => new Date())
  const root = new PgRepository(deps.db, clock, search, undefined, { statistics, written: 0 })
  if (deps.groupCommit !== false) {
    root.useCoalescer(
      new CreateCoalescer<PreparedCreate>(
        (tenantId, prepared) => root.insertOne(tenantId, prepared),
        async (tenantId, items) => {
          const outcomes = await insertPrepared(deps.db, tenantId, items)
          root.countWrites(outcomes.filter((o) => o.status !== 'failed').length)
          return outcomes
        },
      ),
    )
  }
  return root
}

/** Where committed writes are counted for the planner statistics; a transaction counts in its own and reports on commit. */
interface WriteCounter {
  readonly statistics: PlannerStatistics
  written: number
}

class PgRepository implements Repository {
  private readonly store: ResourceStore

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => Date,
    private readonly searchConfig: SearchConfig,
    /** In a transaction: the tenants whose SearchParameters it changed (their registries refresh after commit). */
    private readonly searchParamWrites?: Set<string>,
    private readonly writes?: WriteCounter,
  ) {
    this.store = new ResourceStore(db)
  }

  private coalescer?: CreateCoalescer<PreparedCreate>

  useCoalescer(coalescer: CreateCoalescer<PreparedCreate>) {
    this.coalescer = coalescer
  }

  /** Writes made outside this repository's own methods (the coalescer's batches), for the planner statistics. */
  countWrites(n: number) {
    if (!this.writes) return
    // In a transaction the count waits for the commit (transaction()); outside, it counts at once.
    if (this.searchParamWrites) this.writes.written += n
    else this.writes.statistics.noteWrites(n)
  }

  searchConfigFor(tenantId: string): Promise<SearchConfig> {
    return this.searchFor(tenantId)
  }

  /** The search config with the tenant's own SearchParameters in force (indexing/tenant-params.ts). */
  private async searchFor(tenantId: string): Promise<SearchConfig> {
    const params = this.searchConfig.tenantParams
    if (!params) return this.searchConfig
    // A transaction that changed SearchParameters sees its own uncommitted ones; nobody else may.
    const registry = this.searchParamWrites?.has(tenantId) ? await params.uncachedRegistryFor(this.db, tenantId) : await params.registryFor(this.db, tenantId)
    return { ...this.searchConfig, registry }
  }

  /** A SearchParameter was written: this instance drops the tenant's registry (after commit, in a transaction). */
  private noteWrite(tenantId: string, resourceType: string, count = 1) {
    this.countWrites(count)
    if (resourceType !== 'SearchParameter') return
    if (this.searchParamWrites) this.searchParamWrites.add(tenantId)
    else this.searchConfig.tenantParams?.invalidate(tenantId)
  }

  async create(scope: RequestScope, resource: Resource, options: { readonly id?: string } = {}): Promise<WriteResult> {
    assertKnownType(resource.resourceType)
    if (options.id !== undefined) assertId(options.id)
    const prepared = prepareCreate(await this.searchFor(scope.tenantId), scope.tenantId, resource, this.clock(), options.id)
    // Group commit (create-coalescer.ts): only for a server-assigned id outside a transaction, and
    // not for SearchParameters, whose write changes how everything after it is indexed.
    if (this.coalescer && options.id === undefined && resource.resourceType !== 'SearchParameter') return this.coalescer.create(scope.tenantId, prepared)
    return this.insertOne(scope.tenantId, prepared)
  }

  /** One prepared create in its own statement (also the coalescer's path when nothing else waits). */
  async insertOne(tenantId: string, p: PreparedCreate): Promise<WriteResult> {
    const type = p.resource.resourceType
    const inserted = await this.store.insertNew({ tenantId, resourceType: type, id: p.id, versionId: 1, lastUpdated: p.lastUpdated, deleted: false, method: 'POST', json: p.json, index: p.index })
    if (!inserted) throw idTaken(`${type}/${p.id}`)
    this.noteWrite(tenantId, type)
    return { stored: preparedStored(p), created: true, resource: p.resource }
  }

  async read(scope: RequestScope, resourceType: string, id: string): Promise<StoredResource> {
    assertKnownType(resourceType)
    assertId(id)
    const current = await this.store.readCurrent(scope.tenantId, resourceType, id)
    const ref = `${resourceType}/${id}`
    if (!current) throw notFound(`Resource ${ref} is not known`)
    if (current.deleted) throw gone(ref, String(current.versionId), current.lastUpdated.toISOString())
    return storedVersion(resourceType, id, current.versionId, current.lastUpdated, current.json)
  }

  async vread(scope: RequestScope, resourceType: string, id: string, versionId: string): Promise<StoredResource> {
    assertKnownType(resourceType)
    assertId(id)
    const ref = `${resourceType}/${id}/_history/${versionId}`
    if (!/^[1-9]\d{0,8}$/.test(versionId)) throw notFound(`Version ${ref} is not known (version ids are positive integers)`)
    const version = await this.store.readVersion(scope.tenantId, resourceType, id, Number(versionId))
    if (!version) throw notFound(`Version ${ref} is not known`)
    if (version.deleted) throw gone(ref, version.versionId, version.lastUpdated)
    return version
  }

  async update(scope: RequestScope, resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    assertKnownType(resource.resourceType)
    const id = resource.id
    if (!id) throw invalid('The resource in an update must carry an id matching the URL', { expression: [`${resource.resourceType}.id`] })
    assertId(id)
    return this.writeVersion(scope, resource.resourceType, id, 'PUT', options, () => resource)
  }

  async patch(scope: RequestScope, resourceType: string, id: string, patch: PatchDocument, options: WriteOptions = {}): Promise<WriteResult> {
    assertKnownType(resourceType)
    assertId(id)
    return this.writeVersion(scope, resourceType, id, 'PATCH', options, (current) => {
      const ref = `${resourceType}/${id}`
      if (!current) throw notFound(`Resource ${ref} is not known; a patch needs an existing resource`)
      if (current.deleted) throw gone(ref, String(current.versionId), current.lastUpdated.toISOString())
      const before = JSON.parse(current.json) as Resource
      const after = patch.kind === 'json-patch' ? applyJsonPatch(before, patch.operations) : applyFhirPathPatch(before, patch.parameters)
      if (after.resourceType !== resourceType || after.id !== id) {
        throw unprocessable('A patch must not change resourceType or id')
      }
      return after
    })
  }

  async delete(scope: RequestScope, resourceType: string, id: string, options: WriteOptions = {}): Promise<{ versionId?: string }> {
    assertKnownType(resourceType)
    assertId(id)
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.store.readCurrent(scope.tenantId, resourceType, id)
      checkIfMatch(options.ifMatch, current && !current.deleted ? current.versionId : undefined, `${resourceType}/${id}`)
      if (!current || current.deleted) return {}
      const versionId = current.versionId + 1
      const lastUpdated = nextLastUpdated(this.clock(), current.lastUpdated)
      const ok = await this.store.replaceIfVersion(
        { tenantId: scope.tenantId, resourceType, id, versionId, lastUpdated, deleted: true, method: 'DELETE', json: '' },
        current.versionId,
      )
      if (ok) {
        this.noteWrite(scope.tenantId, resourceType)
        return { versionId: String(versionId) }
      }
      // Lost a race: the next round's checkIfMatch answers 412 if the version moved. It may not
      // have: a $reindex re-inserts the row at the same version (src/resources/reindex.ts).
    }
    throw conflict(`Too many concurrent writes to ${resourceType}/${id}; retry`)
  }

  history: Repository['history'] = async (scope, query) => {
    if (query.resourceType) assertKnownType(query.resourceType)
    if (query.id) assertId(query.id)
    return readHistory(this.db, scope.tenantId, query)
  }

  search: Repository['search'] = async (scope, query) => {
    assertKnownType(query.resourceType)
    return searchType(this.db, await this.searchFor(scope.tenantId), scope, query, this.clock())
  }

  everything: Repository['everything'] = async (scope, query) => readEverything(this.db, (await this.searchFor(scope.tenantId)).registry, scope.tenantId, query)

  searchSystem: Repository['searchSystem'] = async (scope, query) => searchSystem(this.db, await this.searchFor(scope.tenantId), scope, query, this.clock())

  transaction: Repository['transaction'] = async (_scope, fn) => {
    const searchParamWrites = new Set<string>()
    const counter = this.writes && { statistics: this.writes.statistics, written: 0 }
    const result = await withTransaction(this.db, (trx) => {
      if (counter) counter.written = 0
      return fn(new PgRepository(trx, this.clock, this.searchConfig, searchParamWrites, counter))
    })
    for (const tenantId of searchParamWrites) this.noteWrite(tenantId, 'SearchParameter', 0)
    if (counter) counter.statistics.noteWrites(counter.written)
    return result
  }

  validate(resource: unknown) {
    return validateResource(resource)
  }

  lockConditional: Repository['lockConditional'] = async (scope, targets) => {
    if (!this.db.isTransaction) return false
    await takeAdvisoryLocks(this.db, conditionalLockKeys(scope.tenantId, targets))
    return true
  }

  writeMany: Repository['writeMany'] = async (scope, items, options) => {
    const outcomes = await writeMany({ db: this.db, clock: this.clock, search: await this.searchFor(scope.tenantId) }, scope.tenantId, items, options)
    if (outcomes.some((o) => 'stored' in o && o.stored.resourceType === 'SearchParameter')) this.noteWrite(scope.tenantId, 'SearchParameter', 0)
    this.countWrites(outcomes.filter((o) => 'stored' in o).length)
    return outcomes
  }

  searchParams: Repository['searchParams'] = async (scope) => (await this.searchFor(scope.tenantId)).registry

  reindex: Repository['reindex'] = (scope, request) => reindexResources(this.db, () => this.searchFor(scope.tenantId), scope.tenantId, request)

  /**
   * Read the current version, build the next one, write it if nobody else wrote in between;
   * otherwise re-read and rebuild (or 412 when the client pinned a version with If-Match).
   */
  private async writeVersion(
    scope: RequestScope,
    resourceType: string,
    id: string,
    method: HistoryMethod,
    options: WriteOptions,
    build: (current: CurrentVersion | undefined) => Resource,
  ): Promise<WriteResult> {
    const ref = `${resourceType}/${id}`
    const search = await this.searchFor(scope.tenantId)
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.store.readCurrent(scope.tenantId, resourceType, id)
      checkIfMatch(options.ifMatch, current && !current.deleted ? current.versionId : undefined, ref)
      const next = build(current)
      const versionId = (current?.versionId ?? 0) + 1
      const lastUpdated = nextLastUpdated(this.clock(), current?.lastUpdated)
      const stamped = stampMeta(next, id, versionId, lastUpdated)
      assertValidResource(stamped)
      const json = restoreNumberText(JSON.stringify(stamped), numberTextOf(next))
      const index = indexRowsFor(search, scope.tenantId, stamped)
      const write = { tenantId: scope.tenantId, resourceType, id, versionId, lastUpdated, deleted: false, method, json, index }
      const ok = current ? await this.store.replaceIfVersion(write, current.versionId) : await this.store.insertNew(write)
      if (ok) {
        this.noteWrite(scope.tenantId, resourceType)
        return { stored: storedVersion(resourceType, id, versionId, lastUpdated, json), created: !current || current.deleted, resource: stamped }
      }
      // Lost a race: the next round's checkIfMatch answers 412 if the version moved. It may not
      // have: a $reindex re-inserts the row at the same version (src/resources/reindex.ts).
    }
    throw conflict(`Too many concurrent writes to ${ref}; retry`)
  }
}


export function assertKnownType(resourceType: unknown): asserts resourceType is string {
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    throw notFound(`Resource type '${String(resourceType)}' is not a FHIR R4 resource type supported here`, 'MSG_UNKNOWN_TYPE')
  }
}

export function assertId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw invalid(`Id '${id.slice(0, 80)}' is not a valid FHIR id (1-64 characters of A-Z, a-z, 0-9, '-' and '.')`, {
      messageId: 'MSG_ID_INVALID',
    })
  }
}
