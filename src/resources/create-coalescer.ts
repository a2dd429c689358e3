import type { Resource } from '@medplum/fhirtypes'
import type { BulkWriteOutcome } from './bulk-types.js'
import type { WriteResult } from './types.js'

interface Waiting<T> {
  readonly item: T
  resolve(result: WriteResult): void
  reject(error: unknown): void
}

/** Writes a tenant's batch of new resources (the bulk path: a few multi-row statements). */
export type WriteBatch<T = Resource> = (tenantId: string, items: readonly T[]) => Promise<readonly BulkWriteOutcome[]>
/** Writes one new resource alone (the single-statement path, cheaper for one than the bulk path). */
export type WriteOne<T = Resource> = (tenantId: string, item: T) => Promise<WriteResult>

/**
 * Group commit for plain creates (POST with a server-assigned id, outside a transaction). A
 * create is written at once, alone, when the tenant has a free writer; creates that arrive while
 * its writers are busy wait and go together in the next batch, one multi-row statement for all of
 * them (bulk-write.ts). Under load that turns N statements — each with its own planning, foreign
 * key check, commit and WAL flush, ~1.8 ms of PostgreSQL CPU per create at 16 clients — into one
 * of about 0.6 ms per resource; at concurrency 1 nothing waits, so nothing changes.
 *
 * A second writer of a tenant starts only for a batch of at least `extraWriterMinBatch` waiting
 * creates, and a writer leaves small leftovers to the other one still writing. A statement of one
 * create took nearly as long under load as one of fourteen (3.4 vs 6.7 ms at 16 clients, both
 * waiting on the WAL flush): eager writers spent more than half of their statements on single
 * creates that arrived one by one while the server parsed the others. With 8: creates at 16
 * clients went from 33-38% to 45-53% of the minimal server's rate (bench/run.ts, three runs each);
 * 12 was worse again.
 *
 * Each create keeps its own outcome: a per-item failure rejects only its caller (the batch writer
 * reports failures per item; validation fails before a create is queued, prepared-create.ts), and
 * a batch that fails as a whole (a lost connection) rejects each waiting create with that error,
 * as its own statement would have.
 */
export class CreateCoalescer<T = Resource> {
  private readonly queues = new Map<string, Waiting<T>[]>()
  private readonly writers = new Map<string, number>()

  constructor(
    private readonly writeOne: WriteOne<T>,
    private readonly writeBatch: WriteBatch<T>,
    private readonly options: { readonly writersPerTenant?: number; readonly maxBatch?: number; readonly extraWriterMinBatch?: number } = {},
  ) {}

  private get extraWriterMinBatch(): number {
    return this.options.extraWriterMinBatch ?? 8
  }

  create(tenantId: string, item: T): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve, reject) => {
      const queue = this.queues.get(tenantId) ?? []
      queue.push({ item, resolve, reject })
      this.queues.set(tenantId, queue)
      const busy = this.writers.get(tenantId) ?? 0
      if (busy === 0 || (busy < (this.options.writersPerTenant ?? 2) && queue.length >= this.extraWriterMinBatch)) void this.drain(tenantId)
    })
  }

  private async drain(tenantId: string): Promise<void> {
    this.writers.set(tenantId, (this.writers.get(tenantId) ?? 0) + 1)
    try {
      for (;;) {
        const queue = this.queues.get(tenantId)
        if (!queue?.length) break
        // Another writer is still at work and will take these when it is done: no small statement.
        if ((this.writers.get(tenantId) ?? 1) > 1 && queue.length < this.extraWriterMinBatch) break
        const batch = queue.splice(0, this.options.maxBatch ?? 500)
        await this.write(tenantId, batch)
      }
    } finally {
      const left = (this.writers.get(tenantId) ?? 1) - 1
      if (left > 0) this.writers.set(tenantId, left)
      else this.writers.delete(tenantId)
      if (!this.queues.get(tenantId)?.length) this.queues.delete(tenantId)
    }
  }

  private async write(tenantId: string, batch: readonly Waiting<T>[]): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0]!
      await this.writeOne(tenantId, only.item).then(only.resolve, only.reject)
      return
    }
    let outcomes: readonly BulkWriteOutcome[]
    try {
      outcomes = await this.writeBatch(tenantId, batch.map((w) => w.item))
    } catch (err) {
      for (const w of batch) w.reject(err)
      return
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i]
      if (!outcome) w.reject(new Error('the batch write returned no outcome for this create'))
      else if (outcome.status === 'failed') w.reject(outcome.error)
      else w.resolve({ stored: outcome.stored, created: true, resource: outcome.resource })
    })
  }
}
