import type { BulkWriteItem, Repository } from '../resources/index.js'
import { atEntry } from './located-error.js'
import { carryNumberText } from './number-text.js'
import type { RunState } from './state.js'
import type { BundleContext, ParsedEntry } from './types.js'

/**
 * The write step of a transaction in bulk (issue 4: "transaction entries are written in batches"):
 * every POST create and every PUT (update or update-as-create) goes to `Repository.writeMany`,
 * which writes them with a few multi-row statements per 500 resources inside the transaction.
 * Targets and bodies are already resolved (`urn:uuid:` references rewritten), so the results
 * (ids, versions, ETags, Locations) are those the per-entry writes gave. The first failed entry,
 * in processing order, fails the transaction, named as before. Returns the entries left for
 * per-entry writing: PATCH, ifNoneExist matches, repeats of one conditional create and `recheck` targets.
 */
export async function writeInBulk(repo: Repository, ctx: BundleContext, state: RunState, entries: readonly ParsedEntry[]): Promise<ParsedEntry[]> {
  const bulk: { entry: ParsedEntry; item: BulkWriteItem }[] = []
  const rest: ParsedEntry[] = []
  for (const entry of entries) {
    const target = state.targets.get(entry.index)
    const prepared = state.prepared.get(entry.index)
    // A `recheck` target (a batch's conditional entry) re-runs its conditional interaction: per entry.
    if (!target || !prepared || !('resource' in prepared) || ('recheck' in target && target.recheck)) rest.push(entry)
    else if (target.mode === 'create') bulk.push({ entry, item: { mode: 'create', resource: prepared.resource, id: target.id } })
    else if (target.mode === 'update') {
      const resource = carryNumberText(prepared.resource, { ...prepared.resource, id: target.id })
      bulk.push({ entry, item: { mode: 'put', resource, ...(entry.ifMatch ? { ifMatch: entry.ifMatch } : {}) } })
    } else rest.push(entry)
  }
  if (bulk.length === 0) return rest
  const outcomes = await repo.writeMany(ctx.scope, bulk.map((b) => b.item))
  bulk.forEach(({ entry }, n) => {
    const outcome = outcomes[n]!
    if (outcome.status === 'failed') throw atEntry(entry, outcome.error, entry.target.resourceType)
    state.results[entry.index] = { kind: outcome.status === 'updated' ? 'updated' : 'created', stored: outcome.stored }
  })
  return rest
}
