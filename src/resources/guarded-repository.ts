import type { Resource } from '@medplum/fhirtypes'
import { forbidden, isFhirError, notFound } from '../errors.js'
import type { AccessInteraction, AccessPolicy } from './access-policy.js'
import { applyFhirPathPatch, applyJsonPatch } from './patch/index.js'
import type { PatchDocument, Repository } from './repository.js'
import type { HistoryEntry, HistoryPage, HistoryQuery, RequestScope, SearchPage, SearchQuery, StoredResource, SystemSearchQuery, WriteOptions, WriteResult } from './types.js'

/**
 * Wraps a repository so that every call honours `scope.access` (patient compartment, granular
 * scopes). Calls without a policy pass straight through. Implementing the whole `Repository`
 * interface is deliberate: a method added there fails to compile here until it decides its
 * access, so no new path can become a side door.
 *
 * A resource the caller may not see answers exactly like one that does not exist (the same
 * not-found text as the repository), so ids of other patients' data cannot be probed; a write
 * of visible data the caller may not change is `forbidden`.
 */
export function guardRepository(repo: Repository): Repository {
  return new GuardedRepository(repo)
}

const unknown = (type: string, id: string) => notFound(`Resource ${type}/${id} is not known`)
const parse = (stored: StoredResource): Resource => JSON.parse(stored.json) as Resource
// Versions scanned to learn whether a deleted resource was the caller's (instance history).
const VISIBILITY_SCAN = 50

class GuardedRepository implements Repository {
  constructor(private readonly inner: Repository) {}

  async create(scope: RequestScope, resource: Resource, options?: { readonly id?: string }): Promise<WriteResult> {
    if (scope.access && !scope.access.allows(resource, 'create')) throw refused('create', resource)
    return this.inner.create(scope, resource, options)
  }

  async read(scope: RequestScope, resourceType: string, id: string): Promise<StoredResource> {
    const access = scope.access
    if (!access) return this.inner.read(scope, resourceType, id)
    try {
      const stored = await this.inner.read(scope, resourceType, id)
      if (!access.allows(parse(stored), 'read')) throw unknown(resourceType, id)
      return stored
    } catch (e) {
      if (isFhirError(e) && e.kind === 'gone' && !(await this.wasVisible(scope, access, resourceType, id))) throw unknown(resourceType, id)
      throw e
    }
  }

  async vread(scope: RequestScope, resourceType: string, id: string, versionId: string): Promise<StoredResource> {
    const access = scope.access
    if (!access) return this.inner.vread(scope, resourceType, id, versionId)
    try {
      const stored = await this.inner.vread(scope, resourceType, id, versionId)
      if (!access.allows(parse(stored), 'read')) throw notFound(`Version ${resourceType}/${id}/_history/${versionId} is not known`)
      return stored
    } catch (e) {
      if (isFhirError(e) && e.kind === 'gone' && !(await this.wasVisible(scope, access, resourceType, id))) {
        throw notFound(`Version ${resourceType}/${id}/_history/${versionId} is not known`)
      }
      throw e
    }
  }

  async update(scope: RequestScope, resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    const access = scope.access
    if (!access) return this.inner.update(scope, resource, options)
    const current = resource.id ? await this.current(scope, access, resource.resourceType, resource.id, 'update') : undefined
    if (!access.allows(resource, 'update')) throw refused('update', resource)
    // Pin the checked version: a concurrent change must not slip in between check and write.
    return this.inner.update(scope, resource, { ...options, ifMatch: options.ifMatch ?? current?.versionId })
  }

  async patch(scope: RequestScope, resourceType: string, id: string, patch: PatchDocument, options: WriteOptions = {}): Promise<WriteResult> {
    const access = scope.access
    if (!access) return this.inner.patch(scope, resourceType, id, patch, options)
    const current = await this.current(scope, access, resourceType, id, 'update')
    // Nothing current: let read() answer, so a deleted resource of someone else stays unknown.
    if (!current) await this.read(scope, resourceType, id)
    if (current) {
      const old = parse(current)
      const next = patch.kind === 'json-patch' ? applyJsonPatch(old, patch.operations) : applyFhirPathPatch(old, patch.parameters)
      if (!access.allows(next, 'update')) throw refused('update', next)
    }
    return this.inner.patch(scope, resourceType, id, patch, { ...options, ifMatch: options.ifMatch ?? current?.versionId })
  }

  async delete(scope: RequestScope, resourceType: string, id: string, options: WriteOptions = {}): Promise<{ versionId?: string }> {
    const access = scope.access
    if (!access) return this.inner.delete(scope, resourceType, id, options)
    const current = await this.current(scope, access, resourceType, id, 'delete')
    return this.inner.delete(scope, resourceType, id, { ...options, ifMatch: options.ifMatch ?? current?.versionId })
  }

  async history(scope: RequestScope, query: HistoryQuery): Promise<HistoryPage> {
    const access = scope.access
    const page = await this.inner.history(scope, query)
    if (!access) return page
    const isAllowed = (entry: HistoryEntry) => !entry.deleted && access.allows(parse(entry), 'read')
    if (query.resourceType && query.id !== undefined) {
      // One instance: all of its versions or none; its delete entries are shown when it is the caller's.
      const visible = page.entries.some(isAllowed) || (page.total > 0 && (await this.wasVisible(scope, access, query.resourceType, query.id)))
      if (!visible && page.total > 0) throw unknown(query.resourceType, query.id)
      return { ...page, entries: page.entries.filter((e) => e.deleted || isAllowed(e)) }
    }
    const entries = page.entries.filter(isAllowed)
    // The total is the page's total less what this page hid: exact until the search engine can
    // put the compartment into the query itself (see src/auth/README.md).
    return { ...page, entries, total: Math.max(0, page.total - (page.entries.length - entries.length)) }
  }

  async search(scope: RequestScope, query: SearchQuery): Promise<SearchPage> {
    const access = scope.access
    if (!access) return this.inner.search(scope, query)
    if (!access.allowsType(query.resourceType, 'search')) {
      throw forbidden(`The access token does not allow searching ${query.resourceType}: no resource of that type is in its patient compartment`)
    }
    const page = await this.inner.search(scope, query)
    const entries = page.entries.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    const total = page.total === undefined ? undefined : Math.max(0, page.total - (page.entries.length - entries.length))
    // Included resources are held to the same policy: an _include must not reveal another patient's data.
    const included = page.included?.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    return { ...page, entries, total, included }
  }

  async searchSystem(scope: RequestScope, query: SystemSearchQuery): Promise<SearchPage> {
    const access = scope.access
    const page = await this.inner.searchSystem(scope, query)
    if (!access) return page
    const entries = page.entries.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    const total = page.total === undefined ? undefined : Math.max(0, page.total - (page.entries.length - entries.length))
    const included = page.included?.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    return { ...page, entries, total, included }
  }

  transaction<T>(scope: RequestScope, fn: (repo: Repository) => Promise<T>): Promise<T> {
    return this.inner.transaction(scope, (repo) => fn(new GuardedRepository(repo)))
  }

  validate(resource: unknown) {
    return this.inner.validate(resource)
  }

  /**
   * The current version when it exists and is not deleted; not-found when the caller may not
   * see it, forbidden when it may see but not `interaction` it.
   */
  private async current(scope: RequestScope, access: AccessPolicy, type: string, id: string, interaction: AccessInteraction) {
    let stored: StoredResource
    try {
      stored = await this.inner.read(scope, type, id)
    } catch (e) {
      if (isFhirError(e) && (e.kind === 'not-found' || e.kind === 'gone')) return undefined
      throw e
    }
    const resource = parse(stored)
    if (!access.allows(resource, 'read')) throw unknown(type, id)
    if (!access.allows(resource, interaction)) throw refused(interaction, resource)
    return stored
  }

  /** Whether the newest non-deleted version of a (now deleted) resource was visible to the caller. */
  private async wasVisible(scope: RequestScope, access: AccessPolicy, type: string, id: string): Promise<boolean> {
    const page = await this.inner.history(scope, { resourceType: type, id, count: VISIBILITY_SCAN })
    const last = page.entries.find((e) => !e.deleted)
    return last !== undefined && access.allows(parse(last), 'read')
  }
}

function refused(interaction: AccessInteraction, resource: Resource): Error {
  return forbidden(`The access token does not allow ${interaction} of this ${resource.resourceType}: it is outside the token's patient compartment or scope filter`)
}
