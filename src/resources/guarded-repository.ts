import type { Resource } from '@medplum/fhirtypes'
import { forbidden, isFhirError, notFound, type FhirError } from '../errors.js'
import type { BulkWriteItem, BulkWriteOptions, BulkWriteOutcome } from './bulk-types.js'
import type { AccessInteraction, AccessPolicy, SearchRestriction } from './access-policy.js'
import { keyOf, resolveLinks } from './guarded-links.js'
import type { EverythingPage, EverythingQuery } from './everything.js'
import type { SearchParamRegistry } from './indexing/registry.js'
import type { ReindexRequest, ReindexResult } from './reindex.js'
import { applyFhirPathPatch, applyJsonPatch } from './patch/index.js'
import type { ConditionalLockTarget, PatchDocument, Repository } from './repository.js'
import type { SearchRequest } from './search/types.js'
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
      const visible = page.entries.some(isAllowed) || ((page.total ?? 0) > 0 && (await this.wasVisible(scope, access, query.resourceType, query.id)))
      if (!visible && (page.total ?? 0) > 0) throw unknown(query.resourceType, query.id)
      return { ...page, entries: page.entries.filter((e) => e.deleted || isAllowed(e)) }
    }
    // No total: the versions this policy hides are counted in the unfiltered one, and a corrected
    // figure would still reveal how many there are beyond this page.
    return { entries: page.entries.filter(isAllowed), next: page.next }
  }

  async search(scope: RequestScope, query: SearchQuery): Promise<SearchPage> {
    const access = scope.access
    if (!access) return this.inner.search(scope, query)
    if (!access.allowsType(query.resourceType, 'search')) {
      throw forbidden(`The access token does not allow searching ${query.resourceType}: no resource of that type is in its patient compartment`)
    }
    // Links to other types are resolved under the same policy first (chains and _has must not reveal hidden data).
    const linked = await resolveLinks((q) => this.search(scope, q), access, query.params)
    const { restricted, injected, exact } = restrict({ ...query, params: linked.params }, access.searchRestriction(query.resourceType))
    const page = await this.inner.search(scope, restricted)
    // Second line of defence: with an exact restriction this hides nothing and the total stands.
    // Otherwise no total at all: one corrected by what a page hid would count the rest of the
    // resources the caller may not see (another patient's, in a compartment search of theirs).
    const entries = page.entries.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    const total = page.total === undefined || !exact ? undefined : Math.max(0, page.total - (page.entries.length - entries.length))
    // Included resources are held to the same policy: an _include must not reveal another patient's data.
    const included = page.included?.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    return { ...page, request: asSent(page.request, injected, linked.replaced), entries, total, included }
  }

  async searchSystem(scope: RequestScope, query: SystemSearchQuery): Promise<SearchPage> {
    const access = scope.access
    const page = await this.inner.searchSystem(scope, query)
    if (!access) return page
    const entries = page.entries.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    const included = page.included?.filter((e) => !e.deleted && access.allows(parse(e), 'search'))
    // Filtered after the fact over several types: a total would count what the caller may not see.
    return { ...page, entries, total: undefined, included }
  }

  async everything(scope: RequestScope, query: EverythingQuery): Promise<EverythingPage> {
    const access = scope.access
    const page = await this.inner.everything(scope, query)
    if (!access) return page
    // A compartment page and its supporting resources are held to the policy like search results.
    const visible = (e: StoredResource) => !e.deleted && access.allows(parse(e), 'search')
    return { ...page, entries: page.entries.filter(visible), included: page.included.filter(visible) }
  }

  transaction<T>(scope: RequestScope, fn: (repo: Repository) => Promise<T>): Promise<T> {
    return this.inner.transaction(scope, (repo) => fn(new GuardedRepository(repo)))
  }

  validate(resource: unknown) {
    return this.inner.validate(resource)
  }

  // A lock reveals nothing and changes nothing; the search and the write that follow it in a
  // conditional interaction (conditional-interactions.ts) go through this wrapper and its checks.
  lockConditional(scope: RequestScope, targets: readonly ConditionalLockTarget[]): Promise<boolean> {
    return this.inner.lockConditional(scope, targets)
  }

  /**
   * Creates are checked one by one against the policy and written in bulk; an update needs the
   * current content checked too, so under a policy each `put` takes the single-resource path
   * (its guard pins the checked version). Identifier matching would reveal resources the caller
   * may not see, so it needs a token without patient or granular limits.
   */
  async writeMany(scope: RequestScope, items: readonly BulkWriteItem[], options?: BulkWriteOptions): Promise<BulkWriteOutcome[]> {
    const access = scope.access
    if (!access) return this.inner.writeMany(scope, items, options)
    const outcomes = new Array<BulkWriteOutcome>(items.length)
    const creates: { index: number; item: BulkWriteItem }[] = []
    for (const [index, item] of items.entries()) {
      if (item.mode === 'identifier') {
        outcomes[index] = { status: 'failed', error: forbidden('Writing by identifier match needs a token without patient-compartment or granular scope limits') }
      } else if (item.mode === 'create') {
        if (access.allows(item.resource, 'create')) creates.push({ index, item })
        else outcomes[index] = { status: 'failed', error: refused('create', item.resource) as FhirError }
      } else {
        try {
          const result = await this.update(scope, item.resource, item.ifMatch === undefined ? {} : { ifMatch: item.ifMatch })
          outcomes[index] = { status: result.created ? 'created' : 'updated', stored: result.stored, resource: result.resource }
        } catch (e) {
          if (!isFhirError(e)) throw e
          outcomes[index] = { status: 'failed', error: e }
        }
      }
    }
    const written = await this.inner.writeMany(scope, creates.map((c) => c.item), options)
    creates.forEach((c, n) => (outcomes[c.index] = written[n]!))
    return outcomes
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

  searchParams(scope: RequestScope): Promise<SearchParamRegistry> {
    return this.inner.searchParams(scope)
  }

  async reindex(scope: RequestScope, request: ReindexRequest): Promise<ReindexResult> {
    // Reindexing rewrites index rows of every resource of the tenant, whoever may see them.
    if (scope.access) throw forbidden('$reindex needs access to the whole tenant (a system or tenant-admin token), not a token limited to some resources')
    return this.inner.reindex(scope, request)
  }
}

/**
 * The query with the policy's restriction in it: the token patient's compartment (unless the
 * client already searches a compartment, which then stays and the results are filtered) and the
 * granular scope's parameters, AND-ed after the client's.
 */
function restrict(
  query: SearchQuery,
  restriction: SearchRestriction | undefined,
): { restricted: SearchQuery; injected: readonly (readonly [string, string])[]; exact: boolean } {
  if (!restriction) return { restricted: query, injected: [], exact: true }
  const wanted = restriction.compartment
  const compartment = query.compartment ?? wanted
  // Two different compartments (a patient token searching another patient's) cannot both go in.
  const sameCompartment = !wanted || !query.compartment || (query.compartment.resourceType === wanted.resourceType && query.compartment.id === wanted.id)
  const params = restriction.params.length > 0 ? [...query.params, ...restriction.params] : query.params
  return { restricted: { ...query, params, ...(compartment ? { compartment } : {}) }, injected: restriction.params, exact: restriction.exact && sameCompartment }
}

/**
 * The request as the client sent it: injected parameters are not echoed in self and paging
 * links, and resolved links show as written (paging re-resolves them, so a next page stays exact).
 */
function asSent(request: SearchRequest, injected: readonly (readonly [string, string])[], replaced: ReadonlyMap<string, readonly [string, string]>): SearchRequest {
  if (injected.length === 0 && replaced.size === 0) return request
  const used = request.used.map((pair) => replaced.get(keyOf(pair)) ?? pair)
  for (const [name, value] of injected) {
    // The last occurrence is ours (appended after the client's); an identical client pair stays.
    for (let i = used.length - 1; i >= 0; i--) {
      if (used[i]![0] === name && used[i]![1] === value) {
        used.splice(i, 1)
        break
      }
    }
  }
  return { ...request, used }
}

function refused(interaction: AccessInteraction, resource: Resource): Error {
  return forbidden(`The access token does not allow ${interaction} of this ${resource.resourceType}: it is outside the token's patient compartment or scope filter`)
}
