import type { Kysely } from 'kysely'
import type { Identifier, Resource } from '@medplum/fhirtypes'
import type { Database } from '../db/database.js'
import { conflict, FhirError, invalid, isFhirError, notFound, preconditionFailed } from '../errors.js'
import { BulkRows } from './bulk-rows.js'
import { analyzeBulkTables, insertResources, matchIdentifiers, readCurrentRows, updateResources } from './bulk-sql.js'
import type { BulkWriteItem, BulkWriteOptions, BulkWriteOutcome } from './bulk-types.js'
import { sameContent } from './content-equal.js'
import { conditionalLockKeys, takeAdvisoryLocks } from './conditional.js'
import { clip } from './indexing/normalize.js'
import { indexRowsFor, type SearchConfig } from './indexing/resource-indexer.js'
import { numberTextOf, restoreNumberText } from './number-text.js'
import type { StoredResource } from './types.js'
import { assertValidResource, isResourceType } from './validation/index.js'
import { checkIfMatch, idTaken, nextLastUpdated, stampMeta, storedVersion } from './versioning.js'
import { newResourceId } from './resource-id.js'

/** Resources per multi-row statement: past ~500 the statement's arrays grow without a faster rate (bench/ingest.ts). */
export const BULK_BATCH_SIZE = 500
/** Rounds for items that lost a race to a concurrent writer (re-read, rebuilt) before `conflict`. */
const MAX_ROUNDS = 10
const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/

export interface BulkDeps {
  readonly db: Kysely<Database>
  readonly clock: () => Date
  readonly search: SearchConfig
}

/** Where one item stands between rounds. */
interface Pending {
  readonly index: number
  readonly item: BulkWriteItem
  /** The resource id decided so far (create: chosen; put: the body's; identifier: the match). */
  id?: string
  /** The id is new (server-chosen): nothing to read, the row is inserted. */
  fresh: boolean
  attempts: number
}

/**
 * The bulk write path (DESIGN.md "Bulk paths write in batches"): validates, stamps and indexes
 * each resource in Node, then writes each batch with one INSERT statement (new resources) and
 * one UPDATE statement (existing ones), each carrying resource, history and every index row
 * (bulk-sql.ts). Per-item problems (invalid resource, bad id, If-Match mismatch, several
 * identifier matches) fail that item only. Items that touch the same resource twice are written
 * in successive rounds, in item order, so the later one sees the earlier one.
 */
export async function writeMany(
  deps: BulkDeps,
  tenantId: string,
  items: readonly BulkWriteItem[],
  options: BulkWriteOptions = {},
): Promise<BulkWriteOutcome[]> {
  const outcomes = new Array<BulkWriteOutcome | undefined>(items.length)
  if (options.analyze) await analyzeBulkTables(deps.db)
  for (let start = 0; start < items.length; start += BULK_BATCH_SIZE) {
    let pending: Pending[] = []
    for (let i = start; i < Math.min(items.length, start + BULK_BATCH_SIZE); i++) {
      const item = items[i]!
      const problem = checkItem(item)
      if (problem) outcomes[i] = { status: 'failed', error: problem }
      else if (item.mode === 'create') pending.push({ index: i, item, id: item.id ?? newResourceId(), fresh: item.id === undefined, attempts: 0 })
      else pending.push({ index: i, item, fresh: false, attempts: 0 })
    }
    while (pending.length > 0) pending = await writeRound(deps, tenantId, pending, options, outcomes)
  }
  return outcomes.map((o, i) => o ?? { status: 'failed', error: new FhirError('internal', `bulk item ${i} produced no outcome`) })
}

/** One round: at most one item per resource (and per identifier); returns the items for the next round. */
async function writeRound(
  deps: BulkDeps,
  tenantId: string,
  pending: readonly Pending[],
  options: BulkWriteOptions,
  outcomes: (BulkWriteOutcome | undefined)[],
): Promise<Pending[]> {
  const later: Pending[] = []
  const decided = await decideIds(deps, tenantId, pending, outcomes, later)
  const seen = new Set<string>()
  const round: Pending[] = []
  for (const p of decided) {
    const key = `${p.item.resource.resourceType}/${p.id}`
    if (seen.has(key)) later.push(p)
    else {
      seen.add(key)
      round.push(p)
    }
  }
  const toRead = round.filter((p) => !p.fresh && p.item.mode !== 'create')
  const current = await readCurrentRows(deps.db, tenantId, toRead.map((p) => ({ type: p.item.resource.resourceType, id: p.id! })))
  const inserts = new BulkRows()
  const updates = new BulkRows()
  const built = new Map<Pending, { stored: StoredResource; resource: Resource; created: boolean }>()
  const now = deps.clock()
  for (const p of round) {
    const type = p.item.resource.resourceType
    const id = p.id!
    const cur = current.get(`${type}/${id}`)
    try {
      checkIfMatch(p.item.mode === 'put' ? p.item.ifMatch : undefined, cur && !cur.deleted ? cur.versionId : undefined, `${type}/${id}`)
      if (options.skipUnchanged && cur && !cur.deleted && sameContent(cur.json, p.item.resource)) {
        outcomes[p.index] = { status: 'unchanged', stored: storedVersion(type, id, cur.versionId, cur.lastUpdated, cur.json) }
        continue
      }
      const version = (cur?.versionId ?? 0) + 1
      const lastUpdated = nextLastUpdated(now, cur?.lastUpdated)
      const stamped = stampMeta(p.item.resource, id, version, lastUpdated)
      assertValidResource(stamped)
      const json = restoreNumberText(JSON.stringify(stamped), numberTextOf(p.item.resource))
      const index = indexRowsFor(deps.search, tenantId, stamped)
      const row = { type, id, version, lastUpdated, method: p.item.mode === 'create' ? 'POST' : 'PUT', content: json, index }
      if (cur) updates.add({ ...row, expected: cur.versionId })
      else inserts.add(row)
      built.set(p, { stored: storedVersion(type, id, version, lastUpdated, json), resource: stamped, created: !cur || cur.deleted })
    } catch (e) {
      if (!isFhirError(e)) throw e
      outcomes[p.index] = { status: 'failed', error: e }
    }
  }
  const written = new Set([...(await insertResources(deps.db, tenantId, inserts)), ...(await updateResources(deps.db, tenantId, updates))])
  for (const [p, b] of built) {
    const ref = `${b.stored.resourceType}/${b.stored.id}`
    if (written.has(ref)) outcomes[p.index] = { status: b.created ? 'created' : 'updated', stored: b.stored, resource: b.resource }
    else if (p.item.mode === 'create') outcomes[p.index] = { status: 'failed', error: idTaken(ref) }
    else if (p.item.mode === 'put' && p.item.ifMatch !== undefined) outcomes[p.index] = { status: 'failed', error: lostRace(ref, p.item.ifMatch) }
    else if (++p.attempts >= MAX_ROUNDS) outcomes[p.index] = { status: 'failed', error: conflict(`Too many concurrent writes to ${ref}; retry`) }
    else {
      // A concurrent writer got there first: re-read and rebuild next round (an identifier item matches again).
      if (p.item.mode === 'identifier') {
        p.id = undefined
        p.fresh = false
      }
      later.push(p)
    }
  }
  return later
}

/**
 * Gives every identifier item its id: the one resource carrying its first identifier, else the
 * body's id, else a new one. Several matches fail the item; a second item with an identifier
 * already probed this round waits for the next round (it then finds what the first one wrote).
 */
async function decideIds(
  deps: BulkDeps,
  tenantId: string,
  pending: readonly Pending[],
  outcomes: (BulkWriteOutcome | undefined)[],
  later: Pending[],
): Promise<Pending[]> {
  const probes: { p: Pending; type: string; system: string | null; value: string }[] = []
  const probed = new Set<string>()
  const ready: Pending[] = []
  for (const p of pending) {
    const first = p.item.mode === 'identifier' && p.id === undefined ? firstIdentifier(p.item.resource) : undefined
    if (typeof first?.value !== 'string' || first.value === '') {
      ready.push(p)
      continue
    }
    const key = `${p.item.resource.resourceType}|${first.system ?? ''}|${first.value}`
    if (probed.has(key)) later.push(p)
    else {
      probed.add(key)
      probes.push({ p, type: p.item.resource.resourceType, system: typeof first.system === 'string' && first.system !== '' ? clip(first.system) : null, value: clip(first.value) })
    }
  }
  if (deps.db.isTransaction && probes.length) {
    // The same advisory locks as conditional creates (conditional.ts): a concurrent import or
    // `ifNoneExist=identifier=...` of one identifier waits for this transaction instead of duplicating.
    const targets = probes.map(({ p, type, system, value }) => ({ resourceType: type, criteria: [['identifier', system ? `${system}|${value}` : value]] as const, resource: p.item.resource }))
    await takeAdvisoryLocks(deps.db, conditionalLockKeys(tenantId, targets))
  }
  const matches = await matchIdentifiers(deps.db, tenantId, probes)
  probes.forEach(({ p }, n) => {
    const ids = matches[n] ?? []
    if (ids.length > 1) outcomes[p.index] = { status: 'failed', error: severalMatches(p.item.resource, ids.length) }
    else {
      if (ids.length === 1) p.id = ids[0]
      ready.push(p)
    }
  })
  for (const p of ready) {
    if (p.id !== undefined) continue
    // put: the body's id; identifier without a match: the body's id (update-as-create), else a new resource.
    p.fresh = p.item.resource.id === undefined
    p.id = p.item.resource.id ?? newResourceId()
  }
  return ready.sort((a, b) => a.index - b.index)
}

/** Problems visible without the database: unknown type, bad or missing id. */
function checkItem(item: BulkWriteItem): FhirError | undefined {
  const resource = item.resource as Partial<Resource> | null
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return invalid('A resource must be a JSON object')
  const type = resource.resourceType
  // A JSON file beside the resources (an export's manifest) has none: say so, not "type 'undefined'".
  if (type === undefined) return invalid('Not a FHIR resource: the JSON object has no resourceType', { expression: ['resourceType'] })
  if (typeof type !== 'string' || !isResourceType(type)) {
    return notFound(`Resource type '${String(type)}' is not a FHIR R4 resource type supported here`, 'MSG_UNKNOWN_TYPE')
  }
  const id = item.mode === 'create' ? item.id : resource.id
  if (item.mode === 'put' && id === undefined) return invalid('The resource in an update must carry an id', { expression: [`${type}.id`] })
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
    return invalid(`Id '${String(id).slice(0, 80)}' is not a valid FHIR id (1-64 characters of A-Z, a-z, 0-9, '-' and '.')`, {
      messageId: 'MSG_ID_INVALID',
      expression: [`${type}.id`],
    })
  }
  return undefined
}

function severalMatches(resource: Resource, count: number): FhirError {
  const first = firstIdentifier(resource)
  return new FhirError(
    'precondition-failed',
    `${count} ${resource.resourceType} resources carry the identifier ${first?.system ?? ''}|${first?.value ?? ''}; the import rule needs at most one`,
    { code: 'multiple-matches' },
  )
}

/** The first `identifier` of a resource, when its type has such an element. */
function firstIdentifier(resource: Resource): Identifier | undefined {
  const identifier = (resource as { identifier?: unknown }).identifier
  const first: unknown = Array.isArray(identifier) ? identifier[0] : identifier
  return typeof first === 'object' && first !== null ? (first as Identifier) : undefined
}

function lostRace(ref: string, ifMatch: string): FhirError {
  return preconditionFailed(`Version conflict on ${ref}: version ${ifMatch} was replaced by a concurrent write; read it again and retry`, 'MSG_VERSION_AWARE_CONFLICT')
}


