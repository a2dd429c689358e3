import type { Resource } from '@medplum/fhirtypes'
import { conflict, FhirError, invalid, isFhirError, notFound, preconditionFailed } from '../errors.js'
import { NUMBER_TEXT, numberTextOf } from './number-text.js'
import type { PatchDocument, Repository } from './repository.js'
import type { RequestScope, StoredResource, WriteOptions } from './types.js'

/**
 * Conditional create, update, patch and delete (https://hl7.org/fhir/R4/http.html#ccreate,
 * #cond-update, #patch, #cdelete), built from Repository calls so that the guarded repository's
 * access policy applies to every step: each runs in ONE transaction that first takes the
 * conditional locks (`Repository.lockConditional`, rule in conditional.ts), then searches, then
 * writes. Twenty parallel conditional creates of the same identifier thus make one resource; the
 * other nineteen see it and answer `matched`.
 *
 * Criteria are always strict: an unknown parameter or a malformed value is `invalid` naming the
 * parameter (ignoring it would select resources the client did not mean), and criteria with no
 * parameter at all are refused, since they would select every resource of the type.
 */

/** `[name, value]` pairs of conditional criteria, in the order given (parseCriteria). */
export type Criteria = readonly (readonly [string, string])[]

/** What a conditional create or update did. `matched`: a conditional create found the resource and wrote nothing. */
export interface ConditionalWriteResult {
  readonly outcome: 'created' | 'updated' | 'matched'
  readonly stored: StoredResource
}

export interface ConditionalDeleteResult {
  /** The resources deleted, by id order; empty when nothing matched. */
  readonly deleted: readonly { readonly id: string; readonly versionId?: string }[]
}

/** At most this many resources are deleted by one conditional delete; more matches → 412. */
export const MAX_CONDITIONAL_DELETE = 100

/** Parameters that shape a result page but never which resources match: left out of the criteria. */
const PAGE_PARAMS = new Set([
  '_count', '_offset', '_total', '_summary', '_elements', '_sort', '_format', '_pretty',
  '_include', '_revinclude', '_include:iterate', '_revinclude:iterate', '_include:recurse', '_revinclude:recurse',
])

/**
 * The criteria of a conditional interaction: the query after `?` (If-None-Exist, or the URL of a
 * conditional update/patch/delete). `invalid` for criteria that select nothing specific: none at
 * all, a parameter without a value, or a paging cursor.
 */
export function parseCriteria(resourceType: string, query: string): Criteria {
  const pairs: [string, string][] = []
  for (const [name, value] of new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)) {
    if (PAGE_PARAMS.has(name)) continue
    if (name === '') throw invalid(`The conditional criteria '${clip(query)}' hold a value without a parameter name`)
    if (name === '_cursor') throw invalid('_cursor pages a search; it cannot be a conditional criterion', { expression: [name] })
    // A contained match is a resource inside another one (of another type, id `x#p1`): there is no
    // resource of this type to create over, replace, patch or delete.
    if ((name === '_contained' && value !== 'false') || (name === '_containedType' && value !== 'container')) {
      throw invalid(`${name}=${clip(value)} selects contained resources, which a conditional interaction cannot act on; leave it out`, { expression: [name] })
    }
    if (value.split(',').every((v) => v.trim() === '')) {
      throw invalid(`Parameter ${name} has no value: every parameter of conditional criteria needs one`, { expression: [name] })
    }
    pairs.push([name, value])
  }
  if (pairs.length === 0) {
    throw invalid(`The conditional URL '${resourceType}?${clip(query)}' has no search criteria; it would match every ${resourceType}`)
  }
  return pairs
}

/**
 * Up to `limit` current resources matching the criteria, after taking the conditional locks
 * (which only hold inside `repo.transaction`: `locked` says whether they do).
 */
export async function matchConditional(
  repo: Repository,
  scope: RequestScope,
  resourceType: string,
  criteria: Criteria,
  options: { readonly limit: number; readonly resource?: Resource },
): Promise<{ readonly matches: readonly StoredResource[]; readonly locked: boolean }> {
  const locked = await repo.lockConditional(scope, [{ resourceType, criteria, ...(options.resource ? { resource: options.resource } : {}) }])
  // No total: `limit` rows tell none, one and several apart without counting every match.
  const params = [...criteria, ['_count', String(options.limit)] as const, ['_total', 'none'] as const]
  const page = await repo.search(scope, { resourceType, params, strict: true })
  return { matches: page.entries.filter((e) => !e.deleted), locked }
}

/** conditional create — http.html#ccreate: none → create, one → `matched` (nothing written), several → 412. */
export function conditionalCreate(
  repo: Repository,
  scope: RequestScope,
  resource: Resource,
  criteria: Criteria,
  options: { readonly id?: string } = {},
): Promise<ConditionalWriteResult> {
  return repo.transaction(scope, async (tx) => {
    const { matches } = await matchConditional(tx, scope, resource.resourceType, criteria, { limit: 2, resource })
    const match = single(matches, resource.resourceType, criteria)
    if (match) return { outcome: 'matched', stored: match }
    const created = await tx.create(scope, resource, options)
    return { outcome: 'created', stored: created.stored }
  })
}

/**
 * conditional update — http.html#cond-update. One match: update it (a body id must be that id,
 * else 400). No match: create, with the body's id when it has one (update as create), but 409 when
 * that id is a live resource the criteria did not select (R5's rule: never overwrite a resource
 * the client did not mean). Several → 412.
 */
export function conditionalUpdate(
  repo: Repository,
  scope: RequestScope,
  resource: Resource,
  criteria: Criteria,
  options: WriteOptions = {},
): Promise<ConditionalWriteResult> {
  const type = resource.resourceType
  return repo.transaction(scope, async (tx) => {
    const { matches } = await matchConditional(tx, scope, type, criteria, { limit: 2, resource })
    const match = single(matches, type, criteria)
    const bodyId = resource.id
    if (match) {
      if (bodyId !== undefined && bodyId !== match.id) {
        throw invalid(`The resource id '${bodyId}' differs from the id '${match.id}' of the ${type} the criteria matched`, {
          expression: [`${type}.id`],
          messageId: 'MSG_RESOURCE_ID_MISMATCH',
        })
      }
      const result = await tx.update(scope, withId(resource, match.id), options)
      return { outcome: result.created ? 'created' : 'updated', stored: result.stored }
    }
    if (options.ifMatch !== undefined) {
      throw preconditionFailed(`If-Match W/"${options.ifMatch}" names a version, but no ${type} matches ${describe(type, criteria)}`, 'MSG_VERSION_AWARE_CONFLICT')
    }
    if (bodyId === undefined) return { outcome: 'created', stored: (await tx.create(scope, resource)).stored }
    if (await isLive(tx, scope, type, bodyId)) {
      throw conflict(`${type}/${bodyId} exists but does not match ${describe(type, criteria)}; a conditional update will not overwrite it (drop the id, or update ${type}/${bodyId} directly)`)
    }
    return { outcome: 'created', stored: (await tx.update(scope, resource)).stored }
  })
}

/** conditional patch — http.html#patch: none → 404, one → patch it, several → 412. */
export function conditionalPatch(
  repo: Repository,
  scope: RequestScope,
  resourceType: string,
  criteria: Criteria,
  patch: PatchDocument,
  options: WriteOptions = {},
): Promise<ConditionalWriteResult> {
  return repo.transaction(scope, async (tx) => {
    const { matches } = await matchConditional(tx, scope, resourceType, criteria, { limit: 2 })
    const match = single(matches, resourceType, criteria)
    if (!match) throw notFound(`No ${resourceType} matches ${describe(resourceType, criteria)}; a conditional patch needs exactly one`, 'MSG_NO_MATCH')
    return { outcome: 'updated', stored: (await tx.patch(scope, resourceType, match.id, patch, options)).stored }
  })
}

/**
 * conditional delete — http.html#cdelete: deletes every match, up to `max` (default
 * MAX_CONDITIONAL_DELETE); more matches → 412 and nothing is deleted. `max: 1` is the single form.
 */
export function conditionalDelete(
  repo: Repository,
  scope: RequestScope,
  resourceType: string,
  criteria: Criteria,
  options: WriteOptions & { readonly max?: number } = {},
): Promise<ConditionalDeleteResult> {
  const max = options.max ?? MAX_CONDITIONAL_DELETE
  return repo.transaction(scope, async (tx) => {
    const { matches } = await matchConditional(tx, scope, resourceType, criteria, { limit: max + 1 })
    if (max === 1) single(matches, resourceType, criteria)
    else if (matches.length > max) {
      throw new FhirError(
        'precondition-failed',
        `${describe(resourceType, criteria)} match more than ${max} ${resourceType} resources; one conditional delete deletes at most ${max}: narrow the criteria or delete in several requests`,
        { code: 'multiple-matches' },
      )
    }
    // Id order: two deletes over overlapping sets take their row locks in the same order.
    const ids = matches.map((m) => m.id).sort()
    const deleted: { id: string; versionId?: string }[] = []
    for (const id of ids) {
      const result = await tx.delete(scope, resourceType, id, options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch })
      deleted.push({ id, ...(result.versionId ? { versionId: result.versionId } : {}) })
    }
    return { deleted }
  })
}

/** The one match, undefined for none; 412 `multiple-matches` for several. */
function single(matches: readonly StoredResource[], resourceType: string, criteria: Criteria): StoredResource | undefined {
  if (matches.length > 1) {
    throw new FhirError('precondition-failed', `${describe(resourceType, criteria)} match more than one ${resourceType}; the criteria must select one resource`, {
      code: 'multiple-matches',
    })
  }
  return matches[0]
}

/** Whether `Type/id` is a current, not deleted resource (as `repo` lets the caller see it). */
export async function isLive(repo: Repository, scope: RequestScope, resourceType: string, id: string): Promise<boolean> {
  try {
    await repo.read(scope, resourceType, id)
    return true
  } catch (e) {
    if (isFhirError(e) && (e.kind === 'not-found' || e.kind === 'gone')) return false
    throw e
  }
}

/** A copy with this id that keeps the body's decimal texts (number-text.ts). */
function withId(resource: Resource, id: string): Resource {
  const copy = { ...resource, id }
  const tokens = numberTextOf(resource)
  if (tokens) Object.defineProperty(copy, NUMBER_TEXT, { value: tokens, enumerable: false })
  return copy
}

const describe = (resourceType: string, criteria: Criteria) => `The criteria '${resourceType}?${clip(criteria.map(([k, v]) => `${k}=${v}`).join('&'))}'`
const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…` : s)
