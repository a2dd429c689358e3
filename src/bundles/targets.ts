import { conflict, FhirError, invalid, isFhirError, notFound } from '../errors.js'
import { isLive, matchConditional, parseCriteria, type ConditionalLockTarget, type Repository, type StoredResource } from '../resources/index.js'
import type { RunState, WriteTarget } from './state.js'
import type { BundleContext, ParsedEntry } from './types.js'
import { newResourceId } from '../resources/index.js'

/**
 * Decides which resource a POST, PUT or PATCH entry writes and records `fullUrl → Type/id`, so
 * references can be rewritten before anything is written (http.html#trules):
 * - POST gets a new server id, unless `ifNoneExist` finds one match (then nothing is written;
 *   several matches → 412; http.html#ccreate);
 * - PUT/PATCH `Type/id` keep that id; `Type?search` takes the one match, several → 412
 *   (http.html#cond-update); no match creates (PUT) or is a 404 (PATCH).
 * Conditional entries search through `matchConditional`, which first takes the conditional locks
 * (src/resources/conditional.ts): in a transaction they are held until commit, so a Bundle and an
 * HTTP conditional create racing on one identifier make one resource. A batch resolves outside a
 * transaction, so its conditional targets carry `recheck` and the write step re-runs the
 * conditional interaction under the locks (steps.ts).
 */
export async function resolveTarget(repo: Repository, ctx: BundleContext, state: RunState, entry: ParsedEntry): Promise<void> {
  const target = await targetOf(repo, ctx, state, entry)
  state.targets.set(entry.index, target)
  if (entry.fullUrl !== undefined) {
    const ref = target.mode === 'matched' ? `${target.stored.resourceType}/${target.stored.id}` : `${target.resourceType}/${target.id}`
    state.fullUrls.set(entry.fullUrl, ref)
  }
}

async function targetOf(repo: Repository, ctx: BundleContext, state: RunState, entry: ParsedEntry): Promise<WriteTarget> {
  const { target } = entry
  const resourceType = target.resourceType
  if (entry.method === 'POST') {
    if (entry.ifNoneExist === undefined) return { mode: 'create', resourceType, id: newResourceId() }
    const key = `${resourceType}?${entry.ifNoneExist}`
    const earlier = state.conditionalCreates.get(key)
    const earlierTarget = earlier === undefined ? undefined : state.targets.get(earlier)
    if (earlier !== undefined && earlierTarget?.mode === 'create') return { mode: 'same-as', index: earlier, resourceType, id: earlierTarget.id }
    const criteria = parseCriteria(resourceType, entry.ifNoneExist)
    const { matches, locked } = await matchConditional(repo, ctx.scope, resourceType, criteria, { limit: 2, resource: entry.resource })
    const match = one(matches, `ifNoneExist '${entry.ifNoneExist}'`, resourceType)
    if (match) return { mode: 'matched', stored: match }
    state.conditionalCreates.set(key, entry.index)
    return { mode: 'create', resourceType, id: newResourceId(), ...(locked ? {} : { recheck: criteria }) }
  }
  if (target.form === 'instance') return { mode: 'update', resourceType, id: target.id }
  if (target.form !== 'type' || target.query === undefined) throw invalid(`Entry url '${entry.url}' cannot be written`)
  const criteria = parseCriteria(resourceType, target.query)
  const { matches, locked } = await matchConditional(repo, ctx.scope, resourceType, criteria, { limit: 2, resource: entry.resource })
  const recheck = locked ? {} : { recheck: criteria }
  const match = one(matches, `'${entry.url}'`, resourceType)
  const bodyId = entry.resource?.id
  if (match) {
    if (bodyId !== undefined && bodyId !== match.id) {
      throw invalid(`The resource id '${bodyId}' differs from the id '${match.id}' of the resource '${entry.url}' matched`, {
        expression: [`${resourceType}.id`],
        messageId: 'MSG_RESOURCE_ID_MISMATCH',
      })
    }
    return { mode: 'update', resourceType, id: match.id, ...recheck }
  }
  if (entry.method === 'PATCH') throw notFound(`No ${resourceType} matches '${entry.url}'; a conditional patch needs exactly one`, 'MSG_NO_MATCH')
  // R4 conditional update with no match: a create, with the client's id when the body carries one,
  // unless that id is a live resource the criteria did not select (R5's 409, as over HTTP).
  if (bodyId === undefined) return { mode: 'create', resourceType, id: newResourceId(), ...recheck }
  if (await isLive(repo, ctx.scope, resourceType, bodyId)) {
    throw conflict(`${resourceType}/${bodyId} exists but does not match '${entry.url}'; a conditional update will not overwrite it (drop the id, or update ${resourceType}/${bodyId} directly)`)
  }
  return { mode: 'update', resourceType, id: bodyId, ...recheck }
}

/**
 * Takes the conditional locks of every conditional write of a transaction at once, in one sorted
 * order (ifNoneExist, and PUT/PATCH/DELETE `Type?criteria`), before any entry resolves: two
 * transaction Bundles over overlapping identifiers then queue instead of deadlocking (PostgreSQL
 * would detect that after deadlock_timeout and the transaction be retried). Each entry takes its
 * locks again as it resolves, a no-op for locks its session holds. Call it inside the transaction,
 * before resolving targets. Criteria that do not parse are skipped: their entry reports the error.
 */
export async function lockConditionalEntries(repo: Repository, ctx: BundleContext, entries: readonly ParsedEntry[]): Promise<void> {
  const targets: ConditionalLockTarget[] = []
  for (const entry of entries) {
    const { target } = entry
    const query = entry.method === 'POST' ? entry.ifNoneExist : entry.method !== 'GET' && entry.method !== 'HEAD' && target.form === 'type' ? target.query : undefined
    if (query === undefined) continue
    try {
      targets.push({ resourceType: target.resourceType, criteria: parseCriteria(target.resourceType, query), ...(entry.resource ? { resource: entry.resource } : {}) })
    } catch (e) {
      if (!isFhirError(e)) throw e
    }
  }
  if (targets.length > 0) await repo.lockConditional(ctx.scope, targets)
}

/** The single match, undefined for none, 412 for several. */
export function one(matches: readonly StoredResource[], what: string, resourceType: string): StoredResource | undefined {
  if (matches.length > 1) {
    throw new FhirError('precondition-failed', `${what} matches more than one ${resourceType}; the criteria must select one resource`, {
      code: 'multiple-matches',
    })
  }
  return matches[0]
}

/**
 * http.html#trules: "If any resource identities (including resolved identities from conditional
 * update/delete) overlap in steps 1-3, then the transaction SHALL fail." Returns the first entry
 * that writes a resource an earlier entry already writes or deletes.
 */
export function firstOverlap(
  entries: readonly ParsedEntry[],
  state: RunState,
): { entry: ParsedEntry; ref: string; earlier: number } | undefined {
  const owners = new Map<string, number>()
  for (const [index, result] of state.results.entries()) {
    if (result?.kind === 'deleted' && result.id !== undefined) owners.set(`${result.resourceType}/${result.id}`, index)
  }
  for (const entry of entries) {
    const target = state.targets.get(entry.index)
    if (!target || target.mode === 'matched' || target.mode === 'same-as') continue
    const ref = `${target.resourceType}/${target.id}`
    const earlier = owners.get(ref)
    if (earlier !== undefined) return { entry, ref, earlier }
    owners.set(ref, entry.index)
  }
  return undefined
}
