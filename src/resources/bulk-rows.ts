import type { IndexRows } from './indexing/rows.js'

/**
 * The rows of one multi-row write, column-wise: every column is ONE array parameter of the
 * statement (bulk-sql.ts), so a batch of 500 resources with 10,000 index rows still sends a fixed
 * number of parameters and the statement text never changes. Index rows carry their resource's
 * type and id per row (a batch mixes types).
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
  readonly string = { ...keys(), param: [] as string[], ord: [] as number[], value: [] as string[], exact: [] as string[] }
  readonly token = {
    ...keys(),
    param: [] as string[],
    ord: [] as number[],
    system: [] as (string | null)[],
    code: [] as (string | null)[],
    display: [] as (string | null)[],
    typeSystem: [] as (string | null)[],
    typeCode: [] as (string | null)[],
  }
  readonly reference = { ...keys(), param: [] as string[], ord: [] as number[], refType: [] as (string | null)[], refId: [] as string[] }
  readonly date = { ...keys(), param: [] as string[], ord: [] as number[], low: [] as string[], high: [] as string[] }
  readonly number = { ...keys(), param: [] as string[], ord: [] as number[], low: [] as string[], high: [] as string[] }
  readonly quantity = {
    ...keys(),
    param: [] as string[],
    ord: [] as number[],
    low: [] as string[],
    high: [] as string[],
    system: [] as (string | null)[],
    code: [] as (string | null)[],
    unit: [] as (string | null)[],
  }
  readonly uri = { ...keys(), param: [] as string[], ord: [] as number[], value: [] as string[] }
  readonly sort = { ...keys(), param: [] as string[], lo: [] as string[], hi: [] as string[] }
  readonly text = { ...keys(), param: [] as string[], words: [] as string[] }

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
    const x = w.index
    append(this.string, x.string, w.type, w.id)
    append(this.token, x.token, w.type, w.id)
    append(this.reference, x.reference, w.type, w.id)
    append(this.date, x.date, w.type, w.id)
    append(this.number, x.number, w.type, w.id)
    append(this.quantity, x.quantity, w.type, w.id)
    append(this.uri, x.uri, w.type, w.id)
    append(this.sort, x.sort, w.type, w.id)
    append(this.text, x.text, w.type, w.id)
  }
}

function keys() {
  return { rtype: [] as string[], rid: [] as string[] }
}

/** Appends one resource's column arrays to the batch's, repeating its type and id per row. */
function append<T extends { rtype: string[]; rid: string[] }>(into: T, from: { param: unknown[] } & Record<string, unknown[]>, type: string, id: string) {
  const n = from.param.length
  if (n === 0) return
  for (let i = 0; i < n; i++) {
    into.rtype.push(type)
    into.rid.push(id)
  }
  for (const key of Object.keys(from)) {
    const target = (into as unknown as Record<string, unknown[]>)[key]
    const source = from[key]!
    for (let i = 0; i < n; i++) target!.push(source[i])
  }
}
