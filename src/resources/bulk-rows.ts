import { INDEX_FIELDS, INDEX_TABLE_COLUMNS, type IndexField } from './indexing/index-tables.js'
import type { IndexRows } from './indexing/rows.js'

/** One index table's columns of a batch: `owner` (the row's resource) and the IndexRows columns. */
type IndexColumns = Record<string, unknown[]>

/**
 * The rows of one multi-row write, column-wise: every column is ONE array parameter of the
 * statement (bulk-sql.ts), so a batch of 500 resources with 10,000 index rows still sends a fixed
 * number of parameters and the statement text never changes. Index rows carry their resource's
 * position in the batch (`owner`, from 1), which the statement joins back to the resource's type
 * and id: one small integer per row instead of the type and the 36-character id, which were ~40% of
 * the index columns' bytes that pg sent and PostgreSQL parsed on a coalesced create.
 */
export class BulkRows {
  readonly resource = {
    type: [] as string[],
    id: [] as string[],
    version: [] as number[],
    /** Only for updates: the version the row must still be at (optimistic concurrency). */
    expected: [] as number[],
    lastUpdated: [] as string[],
    method: [] as string[],
    content: [] as string[],
  }
  /** Per index table (INDEX_TABLE_COLUMNS): its IndexRows columns plus each row's `owner`. */
  readonly index: Readonly<Record<IndexField, IndexColumns>> = Object.fromEntries(
    INDEX_FIELDS.map((field) => [field, Object.fromEntries([['owner', []], ...INDEX_TABLE_COLUMNS[field].columns.map(([key]) => [key, []])])]),
  ) as Record<IndexField, IndexColumns>

  get size(): number {
    return this.resource.id.length
  }

  add(w: { type: string; id: string; version: number; expected?: number; lastUpdated: Date; method: string; content: string; index: IndexRows }) {
    const r = this.resource
    r.type.push(w.type)
    r.id.push(w.id)
    r.version.push(w.version)
    r.expected.push(w.expected ?? 0)
    r.lastUpdated.push(w.lastUpdated.toISOString())
    r.method.push(w.method)
    r.content.push(w.content)
    const owner = r.id.length
    for (const field of INDEX_FIELDS) append(this.index[field], w.index[field], owner)
  }
}

/** Appends one resource's column arrays to the batch's, with its position in the batch per row. */
function append(into: IndexColumns, from: { readonly param: readonly unknown[] }, owner: number) {
  const n = from.param.length
  if (n === 0) return
  const owners = into.owner!
  for (let i = 0; i < n; i++) owners.push(owner)
  for (const [key, source] of Object.entries(from as unknown as Record<string, unknown[]>)) {
    const target = into[key]
    for (let i = 0; i < n; i++) target!.push(source[i])
  }
}
