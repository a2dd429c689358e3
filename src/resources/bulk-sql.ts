import { CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { DATE_ROWS_RETURNING, spanRaiseCte } from './date-span-sql.js'
import { arrayLiteral } from '../db/array-literal.js'
import { PREPARED } from '../db/prepared-statements.js'
import type { BulkRows } from './bulk-rows.js'
import { cached, unnestColumns } from './version-write-sql.js'
import { INDEX_FIELDS, INDEX_TABLE_COLUMNS, KEYED_FIELDS, writtenColumns, type IndexField } from './indexing/index-tables.js'
import { keyArray, searchKey } from './indexing/search-key.js'

/**
 * The SQL of the bulk write path (bulk-write.ts): a batch of resources in ONE statement per kind
 * of write (new rows, replaced rows). Every column travels as one array parameter and is
 * `unnest`ed, so the statement text is fixed whatever the batch holds: no per-batch query
 * building, no parameter-count limit, and PostgreSQL and PGlite run it alike. Measured against
 * COPY in bench/ingest.ts: multi-row INSERT of arrays is as fast here and needs no second protocol.
 */

/** A column list builder: `col(name, pgType)` hands out the next `$n`. */
function params(first: number) {
  let n = first
  return (pgType: string) => `$${n++}::${pgType}`
}

const INDEX_TABLES = Object.fromEntries(
  INDEX_FIELDS.map((field) => {
    const { table } = INDEX_TABLE_COLUMNS[field]
    return [field, { table, columns: writtenColumns(field).map(([, column, pgType]) => [column, pgType] as const) }]
  }),
) as Record<IndexField, { table: string; columns: (readonly [string, string])[] }>

/**
 * The resource bodies travel as ONE text parameter, each body preceded by U+001E, split back in
 * SQL, instead of a text[] whose literal quotes every `"` of every body: pg escaped each 1.7 KB body
 * in JavaScript and PostgreSQL unescaped it again (together ~5% of the server's CPU on coalesced
 * creates). JSON text never holds a raw U+001E (JSON.stringify escapes control characters), and
 * the leading separator keeps an empty body as one element (`string_to_array('', ...)` is empty).
 */
const BODY_SEPARATOR = '\u001e'
const bodies = (param: string) => `(string_to_array(${param}, chr(30)))[2:]`
const joinBodies = (contents: readonly string[]) => BODY_SEPARATOR + contents.join(BODY_SEPARATOR)

/**
 * Index inserts, one per table of `fields`, joined to the CTE `done` (the batch's resources this
 * statement really wrote): each row names its resource by `owner`, the resource's position in
 * `input`. One join per table; a join to `input` plus a semi-join to `cur` per table cost 4% more
 * PostgreSQL instructions per create (bench/write-instructions.ts).
 */
function indexInsertCtes(next: (t: string) => string, fields: readonly IndexField[]): string {
  return fields
    .map((field) => {
      const { table, columns } = INDEX_TABLES[field]
      const names = columns.map(([c]) => c)
      const arrays = ['int4', ...columns.map(([, t]) => t)].map((t) => next(`${t}[]`))
      // Date rows also raise search_date_span (date-span-sql.ts), from the rows the insert returns.
      const returning = field === 'date' ? DATE_ROWS_RETURNING : ''
      const insert = `, i_${field} AS (INSERT INTO ${table} (tenant_id, resource_type, id, ${names.join(', ')})
      SELECT $1, d.resource_type, d.id, ${names.map((c) => `u.${c}`).join(', ')}
      FROM ${unnestColumns(arrays, ['owner', ...names])} u JOIN done d ON d.n = u.owner${returning})`
      return field === 'date' ? `${insert}, ${spanRaiseCte('span', `i_${field} u`)}` : insert
    })
    .join('\n')
}

// $1 tenant; $2..$7 the resource columns; then the columns of the index tables in `fields`.
const insertSql = (fields: readonly IndexField[]) => {
  const next = params(2)
  const input = [next('text[]'), next('text[]'), next('int4[]'), next('timestamptz[]'), next('text[]'), bodies(next('text'))]
  return `WITH input AS (
      SELECT * FROM unnest(${input.join(', ')}) WITH ORDINALITY AS u(resource_type, id, version_id, last_updated, method, content, n)
    ), cur AS (
      INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, deleted, content)
      SELECT $1, resource_type, id, version_id, last_updated, false, content FROM input
      ON CONFLICT (tenant_id, resource_type, id) DO NOTHING
      RETURNING resource_type, id
    ), done AS (
      SELECT i.* FROM input i JOIN cur USING (resource_type, id)
    ), hist AS (
      INSERT INTO resource_history (tenant_id, resource_type, id, version_id, last_updated, deleted, method, content)
      SELECT $1, resource_type, id, version_id, last_updated, false, method, content FROM done
    )${indexInsertCtes(next, fields)}
    SELECT resource_type, id FROM cur`
}

// As insertSql plus `expected` (the version the row must still be at) and the old index rows'
// deletes. One statement sees the snapshot taken before it started, so the deletes never touch
// the rows the same statement inserts.
// Existing rows are reached only through per-row equality lookups (LATERAL, which the planner
// must run as a nested loop over the batch) and then by ctid: a plain join of the batch against a
// table lets the planner hash the tenant's whole table when statistics lag behind a bulk load
// (seen: 127,000 identifier rows read per batch at 100k resources), making a long import quadratic.
const rowsOf = (table: string, outer: string) =>
  `ARRAY(SELECT s.ctid FROM ${outer} CROSS JOIN LATERAL (SELECT ctid FROM ${table} WHERE tenant_id = $1 AND resource_type = ${outer}.resource_type AND id = ${outer}.id) s)`
const updateSql = (fields: readonly IndexField[]) => {
  const next = params(2)
  const input = [next('text[]'), next('text[]'), next('int4[]'), next('int4[]'), next('timestamptz[]'), next('text[]'), bodies(next('text'))]
  // Old rows can be in any table, whatever the new versions hold.
  const deletes = INDEX_FIELDS.map((f) => `, d_${f} AS (DELETE FROM ${INDEX_TABLES[f].table} WHERE ctid = ANY(${rowsOf(INDEX_TABLES[f].table, 'cur')}))`).join('\n')
  return `WITH input AS (
      SELECT * FROM unnest(${input.join(', ')}) WITH ORDINALITY AS u(resource_type, id, version_id, expected, last_updated, method, content, n)
    ), target AS (
      SELECT i.*, x.row_ctid FROM input i
      CROSS JOIN LATERAL (SELECT ctid AS row_ctid FROM resource WHERE tenant_id = $1 AND resource_type = i.resource_type AND id = i.id AND version_id = i.expected) x
    ), cur AS (
      UPDATE resource r SET version_id = t.version_id, last_updated = t.last_updated, deleted = false, content = t.content
      FROM target t
      WHERE r.ctid = t.row_ctid AND r.tenant_id = $1 AND r.resource_type = t.resource_type AND r.id = t.id AND r.version_id = t.expected
      RETURNING r.resource_type, r.id
    ), done AS (
      SELECT i.* FROM input i JOIN cur USING (resource_type, id)
    ), hist AS (
      INSERT INTO resource_history (tenant_id, resource_type, id, version_id, last_updated, deleted, method, content)
      SELECT $1, resource_type, id, version_id, last_updated, false, method, content FROM done
    )${deletes}${indexInsertCtes(next, fields)}
    SELECT resource_type, id FROM cur`
}

// Row locks taken in one global order (type, id): two writers of overlapping batches queue
// instead of deadlocking.
const READ_CURRENT_SQL = `SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content
  FROM unnest($2::text[], $3::text[]) AS k(resource_type, id)
  CROSS JOIN LATERAL (SELECT * FROM resource WHERE tenant_id = $1 AND resource_type = k.resource_type AND id = k.id) r
  ORDER BY r.resource_type, r.id
  FOR UPDATE OF r`

// One probe per item, each an equality lookup on search_token_lookup (an index-only scan): the
// planner keeps this plan even with stale statistics, where `code = ANY(...)` was planned as a scan
// of the tenant's every identifier row. Two ids are enough to know there are several.
const MATCH_IDENTIFIERS_SQL = `SELECT k.n::int AS n, m.id
  FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[]) WITH ORDINALITY AS k(resource_type, system, code, key, n)
  CROSS JOIN LATERAL (
    SELECT DISTINCT t.id FROM search_token t
    WHERE t.tenant_id = $1 AND t.resource_type = k.resource_type AND t.param = 'identifier' AND t.pkey = k.key AND t.code = k.code
      AND t.system IS NOT DISTINCT FROM k.system
    LIMIT 2
  ) m`

/** The index tables holding rows in this batch: a statement names only those (no empty INSERT to start up). */
function fieldsWithRows(rows: BulkRows): IndexField[] {
  return INDEX_FIELDS.filter((field) => rows.index[field].owner!.length > 0)
}

type Column = readonly (string | number | null)[]

function indexParams(rows: BulkRows, fields: readonly IndexField[], tenantId: string): string[] {
  // Per table: the rows' owners, then its columns, in `fields` order, then the keys (writtenColumns).
  const types = rows.resource.type
  return fields.flatMap((field) => {
    const source = rows.index[field]
    const out = [source.owner!, ...INDEX_TABLE_COLUMNS[field].columns.map(([key]) => source[key]!)].map((column) => arrayLiteral(column as Column))
    if (KEYED_FIELDS.has(field)) {
      const owners = source.owner as number[]
      out.push(keyArray(tenantId, (i) => types[owners[i]! - 1]!, source.param as string[]))
    }
    return out
  })
}

/** The statement text for a kind of write and the tables with rows (one per shape), prefixed for preparing when the batch is small. */
function statementText(kind: 'insert' | 'update', fields: readonly IndexField[], prepared: boolean): string {
  return cached(`bulk-${kind}:${prepared}:${fields.join(',')}`, () => (prepared ? PREPARED : '') + (kind === 'insert' ? insertSql(fields) : updateSql(fields)))
}

type Key = { resource_type: string; id: string }
const keyOf = (row: Key) => `${row.resource_type}/${row.id}`

/**
 * Batches up to this size run as a prepared statement (prepared-statements.ts): planning the
 * statement, a CTE per index table, cost about as much PostgreSQL CPU as writing a few resources
 * (coalesced creates at 16 clients, 2 per batch: 0.63 -> 0.37 ms of PostgreSQL CPU per create;
 * 8 per batch: 0.34 -> 0.27). A generic plan is made without the arrays' lengths (the planner
 * takes 10 elements per unnest), harmless for a few rows; import-sized batches keep custom plans
 * that see their real sizes.
 */
export const PREPARED_BATCH_LIMIT = 64

/** Inserts new resources (version rows, history, index rows); returns the `Type/id` keys written (a taken id is skipped). */
export async function insertResources(db: Kysely<Database>, tenantId: string, rows: BulkRows): Promise<Set<string>> {
  if (rows.size === 0) return new Set()
  const r = rows.resource
  const fields = fieldsWithRows(rows)
  const text = statementText('insert', fields, rows.size <= PREPARED_BATCH_LIMIT)
  const { rows: written } = await db.executeQuery<Key>(
    CompiledQuery.raw(text, [tenantId, r.type, r.id, r.version, r.lastUpdated, r.method, joinBodies(r.content), ...indexParams(rows, fields, tenantId)]),
  )
  return new Set(written.map(keyOf))
}

/** Replaces resources still at their `expected` version; returns the keys written (the others lost a race). */
export async function updateResources(db: Kysely<Database>, tenantId: string, rows: BulkRows): Promise<Set<string>> {
  if (rows.size === 0) return new Set()
  const r = rows.resource
  const fields = fieldsWithRows(rows)
  const text = statementText('update', fields, rows.size <= PREPARED_BATCH_LIMIT)
  const { rows: written } = await db.executeQuery<Key>(
    CompiledQuery.raw(text, [tenantId, r.type, r.id, r.version, r.expected, r.lastUpdated, r.method, joinBodies(r.content), ...indexParams(rows, fields, tenantId)]),
  )
  return new Set(written.map(keyOf))
}

export interface CurrentRow {
  versionId: number
  lastUpdated: Date
  deleted: boolean
  json: string
}

/** The current rows of these resources (locked until the transaction ends), keyed `Type/id`. */
export async function readCurrentRows(db: Kysely<Database>, tenantId: string, keys: readonly { type: string; id: string }[]): Promise<Map<string, CurrentRow>> {
  const found = new Map<string, CurrentRow>()
  if (keys.length === 0) return found
  const { rows } = await db.executeQuery<Key & { version_id: number; last_updated: Date; deleted: boolean; content: string }>(
    CompiledQuery.raw(READ_CURRENT_SQL, [tenantId, keys.map((k) => k.type), keys.map((k) => k.id)]),
  )
  for (const row of rows) found.set(keyOf(row), { versionId: row.version_id, lastUpdated: row.last_updated, deleted: row.deleted, json: row.content })
  return found
}

/** For each probe (type, identifier system, value), the ids of the resources carrying that identifier. */
export async function matchIdentifiers(
  db: Kysely<Database>,
  tenantId: string,
  probes: readonly { type: string; system: string | null; value: string }[],
): Promise<string[][]> {
  const matches = probes.map(() => [] as string[])
  if (probes.length === 0) return matches
  const { rows } = await db.executeQuery<{ n: number; id: string }>(
    CompiledQuery.raw(MATCH_IDENTIFIERS_SQL, [tenantId, probes.map((p) => p.type), probes.map((p) => p.system), probes.map((p) => p.value), probes.map((p) => searchKey(tenantId, p.type, 'identifier'))]),
  )
  for (const row of rows) matches[row.n - 1]?.push(row.id)
  return matches
}

/** Fresh planner statistics for what the bulk path reads (see BulkWriteOptions.analyze). */
export async function analyzeBulkTables(db: Kysely<Database>): Promise<void> {
  await db.executeQuery(CompiledQuery.raw('ANALYZE resource, search_token', []))
}
