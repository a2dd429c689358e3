import { conflict, FhirError, invalid } from '../errors.js'
import {
  conditionalCreate,
  conditionalDelete,
  conditionalPatch,
  conditionalUpdate,
  parseCriteria,
  type Criteria,
  type Repository,
  type StoredResource,
} from '../resources/index.js'
import { findMatches, pageOf, toSearchQuery } from './matches.js'
import { carryNumberText } from './number-text.js'
import { conditionalReferences, rewriteReferences } from './references.js'
import type { PreparedWrite, RunState } from './state.js'
import { one } from './targets.js'
import type { BundleContext, EntryResult, ParsedEntry } from './types.js'

/** The interactions an entry needs the caller's scopes to allow (conditional forms also search). */
export function authorizeEntry(ctx: BundleContext, entry: ParsedEntry): void {
  const { target } = entry
  const type = target.resourceType
  const conditional = (target.form === 'type' && target.query !== undefined) || entry.ifNoneExist !== undefined
  switch (entry.method) {
    case 'POST':
      ctx.authorize(type, 'create')
      break
    case 'PUT':
      ctx.authorize(type, 'update')
      break
    case 'PATCH':
      ctx.authorize(type, 'patch')
      break
    case 'DELETE':
      ctx.authorize(type, 'delete')
      break
    default:
      ctx.authorize(type, target.form === 'instance' ? 'read' : target.form === 'version' ? 'vread' : 'search')
      return
  }
  if (conditional) ctx.authorize(type, 'search')
}

/**
 * delete and conditional delete — http.html#delete, #cdelete. Inside a Bundle a conditional delete
 * is the single form (several matches → 412): an entry's response names one resource.
 */
export async function deleteEntry(repo: Repository, ctx: BundleContext, entry: ParsedEntry): Promise<EntryResult> {
  const { target } = entry
  const resourceType = target.resourceType
  const options = entry.ifMatch ? { ifMatch: entry.ifMatch } : {}
  if (target.form === 'type' && target.query !== undefined) {
    const { deleted } = await conditionalDelete(repo, ctx.scope, resourceType, parseCriteria(resourceType, target.query), { ...options, max: 1 })
    const only = deleted[0]
    return { kind: 'deleted', resourceType, ...(only ? { id: only.id, ...(only.versionId ? { versionId: only.versionId } : {}) } : {}) }
  }
  if (target.form !== 'instance') return { kind: 'deleted', resourceType }
  const result = await repo.delete(ctx.scope, resourceType, target.id, options)
  return { kind: 'deleted', resourceType, id: target.id, ...(result.versionId ? { versionId: result.versionId } : {}) }
}

/**
 * Resolves the entry's conditional references (none → 400, several → 412) and rewrites every
 * reference to another entry, giving the body exactly as it will be written.
 */
export async function prepareEntry(repo: Repository, ctx: BundleContext, state: RunState, entry: ParsedEntry): Promise<void> {
  const body = entry.resource ?? (entry.patch?.kind === 'fhirpath-patch' ? entry.patch.parameters : undefined)
  for (const reference of conditionalReferences(body)) {
    if (state.conditional.has(reference)) continue
    const q = reference.indexOf('?')
    const type = reference.slice(0, q)
    ctx.authorize(type, 'search')
    const match = one(await findMatches(repo, ctx.scope, type, reference.slice(q + 1)), `Conditional reference '${reference}'`, type)
    if (!match) throw invalid(`Conditional reference '${reference}' matches no ${type}; it must match exactly one`)
    state.conditional.set(reference, `${type}/${match.id}`)
  }
  const root = entry.target.resourceType
  if (entry.resource) state.prepared.set(entry.index, { resource: carryNumberText(entry.resource, rewriteReferences(entry.resource, state, root)) })
  else if (entry.patch?.kind === 'fhirpath-patch') {
    state.prepared.set(entry.index, { patch: { kind: 'fhirpath-patch', parameters: rewriteReferences(entry.patch.parameters, state, 'Parameters') } })
  } else if (entry.patch) state.prepared.set(entry.index, { patch: entry.patch })
}

/** Writes a prepared POST/PUT/PATCH entry — http.html#create, #update, #patch. */
export async function writeEntry(repo: Repository, ctx: BundleContext, state: RunState, entry: ParsedEntry): Promise<EntryResult> {
  const target = state.targets.get(entry.index)
  const prepared = state.prepared.get(entry.index)
  if (!target || !prepared) throw new FhirError('internal', `entry ${entry.index} reached the write step unprepared`)
  const options = entry.ifMatch ? { ifMatch: entry.ifMatch } : {}
  switch (target.mode) {
    case 'matched':
      return { kind: 'matched', stored: target.stored }
    case 'same-as': {
      const first = state.results[target.index]
      if (first?.kind !== 'created' && first?.kind !== 'matched') throw conflict(`The same conditional create in entry ${target.index} did not create ${target.resourceType}/${target.id}`)
      return { kind: 'matched', stored: first.stored }
    }
    case 'create': {
      if (!('resource' in prepared)) throw invalid('A create needs a resource')
      if (target.recheck) return recheckedWrite(repo, ctx, entry, prepared, target.recheck)
      const result = await repo.create(ctx.scope, prepared.resource, { id: target.id })
      return { kind: 'created', stored: result.stored }
    }
    case 'update': {
      if (target.recheck) return recheckedWrite(repo, ctx, entry, prepared, target.recheck)
      if ('patch' in prepared) {
        const result = await repo.patch(ctx.scope, target.resourceType, target.id, prepared.patch, options)
        return { kind: 'patched', stored: result.stored }
      }
      const result = await repo.update(ctx.scope, carryNumberText(prepared.resource, { ...prepared.resource, id: target.id }), options)
      return { kind: result.created ? 'created' : 'updated', stored: result.stored }
    }
  }
}

/**
 * A conditional entry of a batch, resolved without the conditional locks: written by the
 * conditional interaction itself, which locks, searches again and writes in this entry's
 * transaction, so a concurrent conditional create of the same identifier cannot slip in between.
 */
async function recheckedWrite(repo: Repository, ctx: BundleContext, entry: ParsedEntry, prepared: PreparedWrite, criteria: Criteria): Promise<EntryResult> {
  const options = entry.ifMatch ? { ifMatch: entry.ifMatch } : {}
  if ('patch' in prepared) {
    const result = await conditionalPatch(repo, ctx.scope, entry.target.resourceType, criteria, prepared.patch, options)
    return { kind: 'patched', stored: result.stored }
  }
  if (entry.method === 'POST') {
    const result = await conditionalCreate(repo, ctx.scope, prepared.resource, criteria)
    return { kind: result.outcome === 'matched' ? 'matched' : 'created', stored: result.stored }
  }
  const result = await conditionalUpdate(repo, ctx.scope, prepared.resource, criteria, options)
  return { kind: result.outcome === 'created' ? 'created' : 'updated', stored: result.stored }
}

/** read, vread and type search — http.html#read, #vread, #search; with ifNoneMatch/ifModifiedSince (#cread). */
export async function readEntry(repo: Repository, ctx: BundleContext, entry: ParsedEntry): Promise<EntryResult> {
  const { target } = entry
  const head = entry.method === 'HEAD'
  switch (target.form) {
    case 'instance': {
      const stored = await repo.read(ctx.scope, target.resourceType, target.id)
      return { kind: 'read', stored, notModified: isNotModified(entry, stored), head }
    }
    case 'version':
      return { kind: 'read', stored: await repo.vread(ctx.scope, target.resourceType, target.id, target.versionId), notModified: false, head }
    case 'type': {
      const params = new URLSearchParams(target.query ?? '')
      const { count, offset } = pageOf(params)
      const page = await repo.search(ctx.scope, toSearchQuery(target.resourceType, params, { strict: false, count, offset }))
      return { kind: 'searched', resourceType: target.resourceType, url: entry.url, page, count, offset }
    }
  }
}

function isNotModified(entry: ParsedEntry, stored: StoredResource): boolean {
  if (entry.ifNoneMatch !== undefined) {
    return entry.ifNoneMatch.split(',').some((tag) => {
      const t = tag.trim()
      return t === '*' || t.replace(/^W\//, '').replace(/"/g, '') === stored.versionId
    })
  }
  if (entry.ifModifiedSince !== undefined) {
    const since = Date.parse(entry.ifModifiedSince)
    return !Number.isNaN(since) && Math.floor(Date.parse(stored.lastUpdated) / 1000) * 1000 <= since
  }
  return false
}
