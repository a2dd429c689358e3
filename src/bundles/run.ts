import { FhirError, invalid, isFhirError } from '../errors.js'
import type { Repository } from '../resources/index.js'
import { writeInBulk } from './bulk-writes.js'
import { atEntry } from './located-error.js'
import { isRejected, parseBundle } from './parse.js'
import { RunState } from './state.js'
import { authorizeEntry, deleteEntry, prepareEntry, readEntry, writeEntry } from './steps.js'
import { firstOverlap, lockConditionalEntries, resolveTarget } from './targets.js'
import type { BundleContext, BundleResult, EntryResult, ParsedEntry } from './types.js'

/** How one step of one entry runs: in the transaction (a failure aborts all) or on its own (batch). */
interface Stepper {
  run(entry: ParsedEntry, work: (repo: Repository) => Promise<void>, options: { writes: boolean }): Promise<void>
}

/**
 * Processes a batch or transaction Bundle (http.html#transaction, bundle.html) and returns one
 * result per entry, in request order. Entries are processed in the order the specification
 * gives for transactions (http.html#trules) — DELETE, then POST, then PUT/PATCH, then GET/HEAD —
 * after every write target is resolved, so references to `urn:uuid:` fullUrls are rewritten
 * before anything is written. All bodies are prepared before the first write, so a transaction
 * writes its creates and updates in bulk (bulk-writes.ts: a few multi-row statements per 500).
 *
 * A transaction runs in ONE database transaction: the first failing entry rolls everything back
 * and throws its FhirError, naming the entry. A batch runs each entry on its own and reports
 * each failure in that entry's result. Bundle-level errors: `invalid` (not a batch/transaction
 * Bundle), `payload-too-large` (more than `maxEntries` entries).
 */
export async function processBundle(ctx: BundleContext, body: unknown): Promise<BundleResult> {
  const parsed = parseBundle(body, { baseUrl: ctx.baseUrl, maxEntries: ctx.maxEntries })
  const count = parsed.entries.length
  if (parsed.type === 'transaction') {
    const entries: ParsedEntry[] = []
    for (const entry of parsed.entries) {
      if (isRejected(entry)) throw atEntry(entry, entry.error)
      guarded(entry, () => authorizeEntry(ctx, entry))
      entries.push(entry)
    }
    const results = await ctx.repo.transaction(ctx.scope, async (repo) => {
      const state = new RunState(count)
      // All conditional locks at once, in one sorted order: overlapping transactions queue instead of deadlocking.
      await lockConditionalEntries(repo, ctx, entries)
      await runPhases(ctx, entries, state, transactionStepper(repo), { transaction: true, repo })
      return state.results
    })
    return { type: 'transaction', entries: complete(results) }
  }
  const state = new RunState(count)
  const entries: ParsedEntry[] = []
  for (const entry of parsed.entries) {
    if (isRejected(entry)) state.results[entry.index] = { kind: 'failed', error: entry.error }
    else entries.push(entry)
  }
  const stepper = batchStepper(ctx, state)
  for (const entry of entries) await stepper.run(entry, async () => authorizeEntry(ctx, entry), { writes: false })
  await runPhases(ctx, entries, state, stepper, { transaction: false })
  return { type: 'batch', entries: complete(state.results) }
}

/** `repo` (the transaction's) when the run is a transaction: its creates and updates are then written in bulk. */
type RunMode = { transaction: true; repo: Repository } | { transaction: false }

async function runPhases(ctx: BundleContext, entries: readonly ParsedEntry[], state: RunState, stepper: Stepper, mode: RunMode) {
  const having = (...methods: string[]) => entries.filter((e) => methods.includes(e.method))
  // In a transaction each resource is written once, so the order inside a group is free: taking
  // row locks in one global order (by url, then by target) keeps two transactions over the same
  // resources from deadlocking. A batch keeps the request order (it may touch a resource twice).
  const deletes = mode.transaction ? having('DELETE').sort((a, b) => compare(a.url, b.url)) : having('DELETE')
  for (const entry of deletes) {
    await stepper.run(entry, async (repo) => void (state.results[entry.index] = await deleteEntry(repo, ctx, entry)), { writes: true })
  }
  const writes = [...having('POST'), ...having('PUT', 'PATCH')]
  for (const entry of writes) await stepper.run(entry, (repo) => resolveTarget(repo, ctx, state, entry), { writes: false })
  if (mode.transaction) {
    const overlap = firstOverlap(writes, state)
    if (overlap) {
      throw atEntry(overlap.entry, invalid(`${overlap.ref} is also written or deleted by entry ${overlap.earlier}; a transaction may touch each resource once`))
    }
  }
  for (const entry of writes) await stepper.run(entry, (repo) => prepareEntry(repo, ctx, state, entry), { writes: false })
  const updates = having('PUT', 'PATCH')
  if (mode.transaction) updates.sort((a, b) => compare(targetRef(state, a), targetRef(state, b)))
  let single = [...having('POST'), ...updates]
  if (mode.transaction) single = await writeInBulk(mode.repo, ctx, state, single)
  for (const entry of single) {
    await stepper.run(entry, async (repo) => void (state.results[entry.index] = await writeEntry(repo, ctx, state, entry)), { writes: true })
  }
  for (const entry of having('GET', 'HEAD')) {
    await stepper.run(entry, async (repo) => void (state.results[entry.index] = await readEntry(repo, ctx, entry)), { writes: false })
  }
}

/** Every step on the transaction's repository; the first FhirError aborts, naming its entry. */
function transactionStepper(repo: Repository): Stepper {
  return {
    async run(entry, work) {
      try {
        await work(repo)
      } catch (e) {
        throw isFhirError(e) ? atEntry(entry, e, entry.target.resourceType) : e
      }
    },
  }
}

/** Each step on its own (writes in their own database transaction); a failure is that entry's result. */
function batchStepper(ctx: BundleContext, state: RunState): Stepper {
  return {
    async run(entry, work, { writes }) {
      if (state.failed(entry.index)) return
      try {
        await (writes ? ctx.repo.transaction(ctx.scope, work) : work(ctx.repo))
      } catch (e) {
        if (!isFhirError(e)) ctx.onUnexpectedError?.(e, entry.index)
        state.results[entry.index] = { kind: 'failed', error: isFhirError(e) ? e : new FhirError('internal', 'Internal server error') }
      }
    },
  }
}

function targetRef(state: RunState, entry: ParsedEntry): string {
  const target = state.targets.get(entry.index)
  return target && target.mode !== 'matched' ? `${target.resourceType}/${target.id}` : entry.url
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function guarded(entry: ParsedEntry, check: () => void): void {
  try {
    check()
  } catch (e) {
    throw isFhirError(e) ? atEntry(entry, e, entry.target.resourceType) : e
  }
}

function complete(results: readonly (EntryResult | undefined)[]): EntryResult[] {
  return results.map((r, index) => r ?? { kind: 'failed', error: new FhirError('internal', `entry ${index} produced no result`) })
}
