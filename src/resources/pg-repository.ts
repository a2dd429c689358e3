import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import type { Database } from '../db/database.js'
import { conflict, FhirError, gone, invalid, notFound, preconditionFailed, unprocessable } from '../errors.js'
import { indexRowsFor, type SearchConfig } from './indexing/resource-indexer.js'
import { r4SearchParamRegistry, type SearchParamRegistry } from './indexing/registry.js'
import { readHistory } from './history.js'
import { applyFhirPathPatch, applyJsonPatch } from './patch/index.js'
import type { PatchDocument, Repository } from './repository.js'
import { ResourceStore, type CurrentVersion } from './resource-store.js'
import { searchType } from './search/search-type.js'
import { withTransaction } from './transaction.js'
import type { HistoryMethod, RequestScope, StoredResource, WriteOptions, WriteResult } from './types.js'
import { assertValidResource, isResourceType, validateResource } from './validation/index.js'
import { checkIfMatch, nextLastUpdated, stampMeta } from './versioning.js'
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
}

export function createPgRepository(deps: RepositoryDeps): Repository {
  const search: SearchConfig = { registry: deps.searchParams ?? r4SearchParamRegistry(), serverUrl: deps.serverUrl }
  return new PgRepository(deps.db, deps.clock ?? (() => new Date()), search)
}

class PgRepository implements Repository {
  private readonly store: ResourceStore

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => Date,
    private readonly searchConfig: SearchConfig,
  ) {
    this.store = new ResourceStore(db)
  }

  async create(scope: RequestScope, resource: Resource, options: { readonly id?: string } = {}): Promise<WriteResult> {
    assertKnownType(resource.resourceType)
    if (options.id !== undefined) assertId(options.id)
    const id = options.id ?? randomUUID()
    const lastUpdated = this.clock()
    const stamped = stampMeta(resource, id, 1, lastUpdated)
    assertValidResource(stamped)
    const json = restoreNumberText(JSON.stringify(stamped), numberTextOf(resource))
    const index = indexRowsFor(this.searchConfig, scope.tenantId, stamped)
    const inserted = await this.store.insertNew({
      tenantId: scope.tenantId, resourceType: stamped.resourceType, id, versionId: 1, lastUpdated, deleted: false, method: 'POST', json, index,
    })
    if (!inserted) throw conflict(`Id ${resource.resourceType}/${id} is taken; a create needs a new id`)
    return { stored: stored(stamped.resourceType, id, 1, lastUpdated, json), created: true, resource: stamped }
  }

  async read(scope: RequestScope, resourceType: string, id: string): Promise<StoredResource> {
    assertKnownType(resourceType)
    assertId(id)
    const current = await this.store.readCurrent(scope.tenantId, resourceType, id)
    const ref = `${resourceType}/${id}`
    if (!current) throw notFound(`Resource ${ref} is not known`)
    if (current.deleted) throw gone(ref, String(current.versionId), current.lastUpdated.toISOString())
    return stored(resourceType, id, current.versionId, current.lastUpdated, current.json)
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
      if (ok) return { versionId: String(versionId) }
      if (options.ifMatch !== undefined) throw lostRace(resourceType, id, options.ifMatch)
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
    return searchType(this.db, this.searchConfig, scope, query, this.clock())
  }

  searchSystem: Repository['searchSystem'] = async () => {
    // Placeholder until system-level search lands in src/resources/search.
    throw invalid('System-level search is not supported yet')
  }

  transaction: Repository['transaction'] = (_scope, fn) => withTransaction(this.db, (trx) => fn(new PgRepository(trx, this.clock, this.searchConfig)))

  validate(resource: unknown) {
    return validateResource(resource)
  }

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
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.store.readCurrent(scope.tenantId, resourceType, id)
      checkIfMatch(options.ifMatch, current && !current.deleted ? current.versionId : undefined, ref)
      const next = build(current)
      const versionId = (current?.versionId ?? 0) + 1
      const lastUpdated = nextLastUpdated(this.clock(), current?.lastUpdated)
      const stamped = stampMeta(next, id, versionId, lastUpdated)
      assertValidResource(stamped)
      const json = restoreNumberText(JSON.stringify(stamped), numberTextOf(next))
      const index = indexRowsFor(this.searchConfig, scope.tenantId, stamped)
      const write = { tenantId: scope.tenantId, resourceType, id, versionId, lastUpdated, deleted: false, method, json, index }
      const ok = current ? await this.store.replaceIfVersion(write, current.versionId) : await this.store.insertNew(write)
      if (ok) return { stored: stored(resourceType, id, versionId, lastUpdated, json), created: !current || current.deleted, resource: stamped }
      if (options.ifMatch !== undefined) throw lostRace(resourceType, id, options.ifMatch)
    }
    throw conflict(`Too many concurrent writes to ${ref}; retry`)
  }
}

function stored(resourceType: string, id: string, versionId: number, lastUpdated: Date, json: string): StoredResource {
  return { resourceType, id, versionId: String(versionId), lastUpdated: lastUpdated.toISOString(), deleted: false, json }
}

function lostRace(resourceType: string, id: string, ifMatch: string): FhirError {
  return preconditionFailed(
    `Version conflict on ${resourceType}/${id}: version ${ifMatch} was replaced by a concurrent write; read it again and retry`,
    'MSG_VERSION_AWARE_CONFLICT',
  )
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
