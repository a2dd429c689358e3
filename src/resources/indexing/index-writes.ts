import { sql, type RawBuilder } from 'kysely'
import { INDEX_FIELDS, INDEX_TABLE_COLUMNS } from './index-tables.js'
import type { IndexRows } from './rows.js'

/** The index tables, in the order their CTEs are written (a fixed order keeps lock order stable). */
export const INDEX_TABLES = INDEX_FIELDS.map((field) => INDEX_TABLE_COLUMNS[field].table)

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
 * column whatever the row count), gated like the deletes. Tables without rows get no CTE (every
 * CTE opens its table and indexes even for no rows); the text then depends only on which tables
 * have rows, a few dozen variants that each run as one prepared statement.
 */
export function insertIndexCtes(t: Target, rows: IndexRows, gate: string): RawBuilder<unknown>[] {
  const ctes: RawBuilder<unknown>[] = []
  INDEX_FIELDS.forEach((field, i) => {
    const source = rows[field] as unknown as Record<string, readonly unknown[]>
    if (!source.param!.length) return
    const { table, columns } = INDEX_TABLE_COLUMNS[field]
    const arrays = columns.map(([key, , pgType]) => sql`${source[key]}::${sql.raw(pgType)}[]`)
    ctes.push(sql`${sql.raw(`i${i}`)} AS (INSERT INTO ${sql.table(table)} (tenant_id, resource_type, id, ${sql.raw(columns.map(([, c]) => c).join(', '))})
      SELECT ${t.tenantId}, ${t.resourceType}, ${t.id}, u.* FROM unnest(${sql.join(arrays)}) AS u
      WHERE EXISTS (SELECT 1 FROM ${sql.table(gate)}))`)
  })
  return ctes
}
