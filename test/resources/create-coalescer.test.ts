import { describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import type { BulkWriteOutcome } from '../../src/resources/bulk-types.js'
import { CreateCoalescer } from '../../src/resources/create-coalescer.js'
import type { WriteResult } from '../../src/resources/types.js'

/** The coalescer's scheduling, with writes that finish when the test says (no database). */
function harness(options: { extraWriterMinBatch?: number } = {}) {
  const statements: { size: number; finish: () => void }[] = []
  const written: string[] = []
  const result = (r: Resource): WriteResult => ({
    stored: { resourceType: r.resourceType, id: r.id!, versionId: '1', lastUpdated: '2026-01-01T00:00:00Z', deleted: false, json: '{}' },
    created: true,
  })
  const pending = (rs: readonly Resource[]) =>
    new Promise<void>((finish) => {
      statements.push({ size: rs.length, finish })
    }).then(() => void written.push(...rs.map((r) => r.id!)))
  const coalescer = new CreateCoalescer(
    async (_t, r) => {
      await pending([r])
      return result(r)
    },
    async (_t, rs) => {
      await pending(rs)
      return rs.map((r): BulkWriteOutcome => ({ status: 'created', ...result(r) }))
    },
    options,
  )
  const create = (n: number) => Array.from({ length: n }, (_, i) => coalescer.create('t', { resourceType: 'Basic', id: `r${written.length}-${Math.random()}-${i}` } as Resource))
  const tick = () => new Promise((r) => setImmediate(r))
  return { statements, written, create, tick }
}

describe('create coalescer scheduling', () => {
  it('writes a lone create at once, alone', async () => {
    const h = harness()
    const done = h.create(1)
    await h.tick()
    expect(h.statements.map((s) => s.size)).toEqual([1])
    h.statements[0]!.finish()
    await Promise.all(done)
    expect(h.written).toHaveLength(1)
  })

  it('starts a second statement only for a batch of at least extraWriterMinBatch waiting creates', async () => {
    const h = harness({ extraWriterMinBatch: 4 })
    const first = h.create(1)
    await h.tick()
    const small = h.create(3)
    await h.tick()
    // Three wait for the busy writer instead of going as a statement of their own.
    expect(h.statements.map((s) => s.size)).toEqual([1])
    const more = h.create(1)
    await h.tick()
    expect(h.statements.map((s) => s.size)).toEqual([1, 4])
    h.statements[0]!.finish()
    h.statements[1]!.finish()
    await Promise.all([...first, ...small, ...more])
    expect(h.written).toHaveLength(5)
  })

  it('leaves small leftovers to the writer still at work, and that writer takes them: none is stranded', async () => {
    const h = harness({ extraWriterMinBatch: 4 })
    const all = [...h.create(1)]
    await h.tick()
    all.push(...h.create(4)) // second writer: 4
    await h.tick()
    all.push(...h.create(2)) // wait
    await h.tick()
    expect(h.statements.map((s) => s.size)).toEqual([1, 4])
    h.statements[0]!.finish() // the first writer is done; 2 wait, fewer than 4, and the other still writes
    await h.tick()
    await h.tick()
    expect(h.statements.map((s) => s.size)).toEqual([1, 4])
    h.statements[1]!.finish() // the second writer takes the two
    await h.tick()
    await h.tick()
    expect(h.statements.map((s) => s.size)).toEqual([1, 4, 2])
    h.statements[2]!.finish()
    await Promise.all(all)
    expect(h.written).toHaveLength(7)
  })
})
