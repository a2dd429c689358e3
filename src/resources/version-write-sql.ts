import { arrayLiteral } from '../db/array-literal.js'
import { PREPARED } from '../db/prepared-statements.js'
import { INDEX_FIELDS, INDEX_TABLE_COLUMNS, KEYED_FIELDS, writtenColumns, type IndexField } from './indexing/index-tables.js'
import { keyArray } from './indexing/search-key.js'
import type { IndexRows } from './indexing/rows.js'
import { DATE_ROWS_RETURNING, spanRaiseCte } from './date-span-sql.js'

/**
 * The SQL text of a single version write (resource-store.ts), built by hand and cached per shape:
 * insert or replace, and which index tables get rows. Building it with the query builder on every
 * write cost about a tenth of a create's server CPU (object freezing, node visits), for a text that
 * only ever takes a few dozen forms; each form also runs as one prepared statement.
 *
 * Parameters: $1 tenant, $2 type, $3 id, $4 version, $5 last_updated, $6 deleted, $7 method,
 * $8 content, ($9 expected version for a replace), then one array per column of each table with
 * rows, in INDEX_FIELDS order.
 */

/** The tables of `rows` that hold rows, in INDEX_FIELDS order. */
export function tablesWithRows(rows: IndexRows | undefined): IndexField[] {
  if (!rows) return []
  return INDEX_FIELDS.filter((field) => (rows[field] as unknown as { param: unknown[] }).param.length > 0)
}

/** The array parameters of `rows` for `fields`, in the order the SQL numbers them, as array literals (writtenColumns). */
export function indexParams(rows: IndexRows | undefined, fields: readonly IndexField[], tenantId: string, resourceType: string): string[] {
  const out: string[] = []
  for (const field of fields) {
    const source = rows![field] as unknown as Record<string, unknown[]>
    for (const [key] of INDEX_TABLE_COLUMNS[field].columns) out.push(arrayLiteral(source[key] as (string | number | null)[]))
    if (KEYED_FIELDS.has(field)) out.push(keyArray(tenantId, () => resourceType, source.param as string[]))
  }
  return out
}

const cache = new Map<string, string>()

export function insertVersionSql(fields: readonly IndexField[]): string {
  return cached(`i:${fields.join(',')}`, () => {
    const next = counter(9)
    return `${PREPARED}WITH cur AS (
        INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, deleted, content)
        VALUES ($1, $2, $3, $4, $5, $6, $8)
        ON CONFLICT (tenant_id, resource_type, id) DO NOTHING
        RETURNING version_id
      ), ${historyCte}${fields.map((f) => `, ${insertCte(f, next)}`).join('')}
      SELECT version_id FROM hist`
  })
}

/**
 * A replace: the current row only if still at version $9 (optimistic concurrency: under READ
 * COMMITTED the WHERE is re-checked after a concurrent writer commits), every old index row
 * deleted and the new ones inserted. One statement sees the snapshot taken before it started, so
 * its deletes never touch the rows it inserts.
 */
export function replaceVersionSql(fields: readonly IndexField[]): string {
  return cached(`r:${fields.join(',')}`, () => {
    const next = counter(10)
    const deletes = INDEX_FIELDS.map(
      (f, i) => `, d${i} AS (DELETE FROM ${INDEX_TABLE_COLUMNS[f].table} WHERE tenant_id = $1 AND resource_type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM cur))`,
    ).join('')
    return `${PREPARED}WITH cur AS (
        UPDATE resource SET version_id = $4, last_updated = $5, deleted = $6, content = $8
        WHERE tenant_id = $1 AND resource_type = $2 AND id = $3 AND version_id = $9
        RETURNING version_id
      ), ${historyCte}${deletes}${fields.map((f) => `, ${insertCte(f, next)}`).join('')}
      SELECT version_id FROM hist`
  })
}

const historyCte = `hist AS (
        INSERT INTO resource_history (tenant_id, resource_type, id, version_id, last_updated, deleted, method, content)
        SELECT $1, $2, $3, version_id, $5, $6, $7, $8 FROM cur
        RETURNING version_id
      )`

function insertCte(field: IndexField, next: () => string): string {
  const { table } = INDEX_TABLE_COLUMNS[field]
  const columns = writtenColumns(field)
  const arrays = columns.map(([, , pgType]) => `${next()}::${pgType}[]`)
  const name = `i${INDEX_FIELDS.indexOf(field)}`
  // Date rows also raise search_date_span (date-span-sql.ts), from the rows the insert returns.
  const returning = field === 'date' ? DATE_ROWS_RETURNING : ''
  // Gated on `cur`: nothing is indexed when the resource row was not written.
  const insert = `${name} AS (INSERT INTO ${table} (tenant_id, resource_type, id, ${columns.map(([, c]) => c).join(', ')})
      SELECT $1, $2, $3, u.* FROM ${unnestColumns(arrays, columns.map(([, c]) => c))} u WHERE EXISTS (SELECT 1 FROM cur)${returning})`
  return field === 'date' ? `${insert}, ${spanRaiseCte('span', `${name} u`)}` : insert
}

/**
 * `(SELECT unnest($a) AS a, unnest($b) AS b, ...)`: the arrays as rows, in step. Not
 * `FROM unnest($a, $b, ...)`, which PostgreSQL runs as a function scan that first copies every
 * array into a tuplestore: the select-list form hands the rows straight on, 7% fewer PostgreSQL
 * instructions per create with index rows (bench/write-instructions.ts). The arrays of one table
 * have one length; were they to differ, both forms pad the shorter ones with NULLs.
 */
export function unnestColumns(arrays: readonly string[], names: readonly string[]): string {
  return `(SELECT ${names.map((name, i) => `unnest(${arrays[i]}) AS ${name}`).join(', ')})`
}

function counter(first: number): () => string {
  let n = first
  return () => `$${n++}`
}

/** A statement text built once per shape (`key`): texts of a few dozen forms, each also a prepared statement. */
export function cached(key: string, build: () => string): string {
  let text = cache.get(key)
  if (text === undefined) cache.set(key, (text = build()))
  return text
}
