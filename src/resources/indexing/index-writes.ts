import { sql, type RawBuilder } from 'kysely'
import type { IndexRows } from './rows.js'

/** The index tables, in the order their CTEs are written (a fixed order keeps lock order stable). */
export const INDEX_TABLES = [
  'search_string',
  'search_token',
  'search_reference',
  'search_date',
  'search_number',
  'search_quantity',
  'search_uri',
  'search_sort',
  'search_text',
] as const

interface Target {
  tenantId: string
  resourceType: string
  id: string
}

/**
 * CTEs that delete a resource's index rows, run only when the CTE `gate` returned a row (the write
 * of the resource row succeeded). A statement sees the snapshot taken before it started, so these
 * deletes never touch the rows the same statement inserts.
 */
export function deleteIndexCtes(t: Target, gate: string): RawBuilder<unknown>[] {
  return INDEX_TABLES.map(
    (table, i) => sql`${sql.raw(`d${i}`)} AS (DELETE FROM ${sql.table(table)}
      WHERE tenant_id = ${t.tenantId} AND resource_type = ${t.resourceType} AND id = ${t.id} AND EXISTS (SELECT 1 FROM ${sql.table(gate)}))`,
  )
}

/**
 * CTEs that insert the rows, each table's rows as one `unnest` of column arrays (one parameter per
 * column whatever the row count), gated like the deletes. Tables without rows get no CTE.
 */
export function insertIndexCtes(t: Target, rows: IndexRows, gate: string): RawBuilder<unknown>[] {
  const ctes: RawBuilder<unknown>[] = []
  const add = (name: string, table: string, columns: string[], arrays: RawBuilder<unknown>[]) => {
    ctes.push(sql`${sql.raw(name)} AS (INSERT INTO ${sql.table(table)} (tenant_id, resource_type, id, ${sql.raw(columns.join(', '))})
      SELECT ${t.tenantId}, ${t.resourceType}, ${t.id}, u.* FROM unnest(${sql.join(arrays)}) AS u
      WHERE EXISTS (SELECT 1 FROM ${sql.table(gate)}))`)
  }
  const text = (v: readonly (string | null)[]) => sql`${v}::text[]`
  const ord = (v: readonly number[]) => sql`${v}::int2[]`
  const s = rows.string
  if (s.param.length) add('i0', 'search_string', ['param', 'ord', 'value', 'exact'], [text(s.param), ord(s.ord), text(s.value), text(s.exact)])
  const k = rows.token
  if (k.param.length) {
    add('i1', 'search_token', ['param', 'ord', 'system', 'code', 'display', 'type_system', 'type_code'], [
      text(k.param), ord(k.ord), text(k.system), text(k.code), text(k.display), text(k.typeSystem), text(k.typeCode),
    ])
  }
  const r = rows.reference
  if (r.param.length) add('i2', 'search_reference', ['param', 'ord', 'ref_type', 'ref_id'], [text(r.param), ord(r.ord), text(r.refType), text(r.refId)])
  const d = rows.date
  if (d.param.length) add('i3', 'search_date', ['param', 'ord', 'low', 'high'], [text(d.param), ord(d.ord), sql`${d.low}::timestamptz[]`, sql`${d.high}::timestamptz[]`])
  const n = rows.number
  if (n.param.length) add('i4', 'search_number', ['param', 'ord', 'low', 'high'], [text(n.param), ord(n.ord), sql`${n.low}::numeric[]`, sql`${n.high}::numeric[]`])
  const q = rows.quantity
  if (q.param.length) {
    add('i5', 'search_quantity', ['param', 'ord', 'low', 'high', 'system', 'code', 'unit'], [
      text(q.param), ord(q.ord), sql`${q.low}::numeric[]`, sql`${q.high}::numeric[]`, text(q.system), text(q.code), text(q.unit),
    ])
  }
  const u = rows.uri
  if (u.param.length) add('i6', 'search_uri', ['param', 'ord', 'value'], [text(u.param), ord(u.ord), text(u.value)])
  const o = rows.sort
  if (o.param.length) add('i7', 'search_sort', ['param', 'lo', 'hi'], [text(o.param), text(o.lo), text(o.hi)])
  const w = rows.text
  if (w.param.length) add('i8', 'search_text', ['param', 'words'], [text(w.param), text(w.words)])
  return ctes
}
