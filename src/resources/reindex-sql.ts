import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database } from '../db/database.js'
import { INDEX_FIELDS, INDEX_TABLE_COLUMNS, INDEX_TABLES, KEYED_FIELDS, writtenColumns, type IndexField } from './indexing/index-tables.js'
import { keyArray } from './indexing/search-key.js'
import { spanRaiseCte } from './date-span-sql.js'
import type { IndexRows } from './indexing/rows.js'

/** One current resource version read by the walk. */
export interface WalkedRow {
  readonly id: string
  readonly versionId: number
  readonly json: string
}

// Where each IndexRows column goes: indexing/index-tables.ts (test/http/reindex.http.test.ts checks
// that a reindex writes exactly the rows a normal write does, for every table).
type Field = IndexField

/** The index rows of a batch of resources of one type, column-wise per table, each row tagged with its resource id. */
export class BatchIndexRows {
  private readonly owners = new Map<Field, string[]>()
  private readonly columns = new Map<Field, unknown[][]>()

  add(id: string, rows: IndexRows): void {
    for (const field of INDEX_FIELDS) {
      const source = rows[field] as unknown as Record<string, unknown[]>
      const n = source.param!.length
      if (!n) continue
      const spec = INDEX_TABLE_COLUMNS[field]
      let owner = this.owners.get(field)
      let target = this.columns.get(field)
      if (!owner || !target) {
        owner = []
        target = spec.columns.map(() => [])
        this.owners.set(field, owner)
        this.columns.set(field, target)
      }
      for (let i = 0; i < n; i++) owner.push(id)
      spec.columns.forEach(([key], c) => target[c]!.push(...source[key]!))
    }
  }

  /**
   * CTEs that leave, in every index table, exactly these rows for the resources `ids` except those
   * the CTE `skipped` returns: rows no longer produced are deleted, rows not yet there are inserted, and the rows
   * that stay the same (most of them, when one parameter was added) are not touched, which is
   * several times cheaper than deleting and re-inserting them all. Both sides are compared in the
   * statement's one snapshot, so a concurrent reindex of the same rows cannot double them.
   */
  syncCtes(tenantId: string, resourceType: string, ids: readonly string[], skipped: string): RawBuilder<unknown>[] {
    const ctes: RawBuilder<unknown>[] = []
    // The batch's ids as a constant array: an index condition (one probe per id) whatever the
    // planner's statistics say. Resources written meanwhile (the CTE `skipped`, nearly always
    // empty) are left out by `<> ALL`, which costs nothing when it is empty. Joins to the CTE of
    // replaced ids were planned, on fresh statistics ("1 row"), as scans of the tenant's whole type
    // per batch, or per row: seconds to minutes per batch.
    const notSkipped = (column: string) => sql`${sql.raw(column)} <> ALL(ARRAY(SELECT id FROM ${sql.table(skipped)}))`
    const ofBatch = sql`t.tenant_id = ${tenantId} AND t.resource_type = ${resourceType} AND t.id = ANY(${ids}::text[]) AND ${notSkipped('t.id')}`
    for (const table of INDEX_TABLES) {
      const field = FIELD_OF_TABLE.get(table)
      const owner = field && this.owners.get(field)
      if (!field || !owner) {
        ctes.push(sql`${sql.raw(`d_${table}`)} AS (DELETE FROM ${sql.table(table)} t WHERE ${ofBatch})`)
        continue
      }
      const spec = INDEX_TABLE_COLUMNS[field]
      const values = this.columns.get(field)!
      const names = writtenColumns(field).map(([, column]) => column)
      const arrays = [sql`${owner}::text[]`, ...values.map((column, c) => sql`${column}::${sql.raw(spec.columns[c]![2])}[]`)]
      if (KEYED_FIELDS.has(field)) {
        const params = values[spec.columns.findIndex(([key]) => key === 'param')] as string[]
        arrays.push(sql`${keyArray(tenantId, () => resourceType, params)}::int8[]`)
      }
      // `param` with plain `=`: with the id, the hash key of the delete's anti-join. The insert's
      // NOT EXISTS has `OFFSET 0` so it stays one index probe per new row: pulled up into an anti
      // join, it was planned as a nested loop over the tenant's whole type when fresh statistics
      // said "1 row" (quadratic: minutes per batch).
      // https://www.postgresql.org/docs/15/sql-select.html#SQL-LIMIT (OFFSET 0 is an optimization fence)
      // pkey follows from param (same tenant and type): not compared.
      const compared = names.filter((n) => n !== 'pkey')
      const same = sql.raw(compared.map((n) => (n === 'param' ? 'n.param = t.param' : `n.${n} IS NOT DISTINCT FROM t.${n}`)).join(' AND '))
      const fresh = `n_${table}`
      ctes.push(sql`${sql.raw(fresh)} AS (SELECT * FROM unnest(${sql.join(arrays)}) AS u(rid, ${sql.raw(names.join(', '))}))`)
      ctes.push(sql`${sql.raw(`d_${table}`)} AS (DELETE FROM ${sql.table(table)} t
        WHERE ${ofBatch} AND NOT EXISTS (SELECT 1 FROM ${sql.table(fresh)} n WHERE n.rid = t.id AND ${same}))`)
      ctes.push(sql`${sql.raw(`i_${table}`)} AS (
        INSERT INTO ${sql.table(table)} (tenant_id, resource_type, id, ${sql.raw(names.join(', '))})
        SELECT ${tenantId}, ${resourceType}, n.rid, ${sql.raw(names.map((c) => `n.${c}`).join(', '))}
        FROM ${sql.table(fresh)} n
        WHERE ${notSkipped('n.rid')} AND NOT EXISTS (SELECT 1 FROM ${sql.table(table)} t
          WHERE t.tenant_id = ${tenantId} AND t.resource_type = ${resourceType} AND t.id = n.rid AND ${same} OFFSET 0))`)
      if (field === 'date') {
        // The rows also raise search_date_span (date-span-sql.ts), with the tenant and type as parameters here.
        ctes.push(sql`span_rows AS (SELECT ${tenantId}::text AS tenant_id, ${resourceType}::text AS resource_type, n.param, n.low, n.high FROM ${sql.table(fresh)} n)`)
        ctes.push(sql.raw(spanRaiseCte('span', 'span_rows u')))
      }
    }
    return ctes
  }
}

const FIELD_OF_TABLE = new Map<string, Field>((INDEX_FIELDS).map((field) => [INDEX_TABLE_COLUMNS[field].table, field]))

/** The next `limit` current, non-deleted resources of a type after `afterId` (primary-key order). */
export async function readBatch(db: Kysely<Database>, tenantId: string, resourceType: string, afterId: string, limit: number): Promise<WalkedRow[]> {
  const { rows } = await db.executeQuery(
    CompiledQuery.raw(
      'select id, version_id, content from resource where tenant_id = $1 and resource_type = $2 and id > $3 and not deleted order by id limit $4',
      [tenantId, resourceType, afterId, limit],
    ),
  )
  return (rows as { id: string; version_id: number; content: string }[]).map((r) => ({ id: r.id, versionId: r.version_id, json: r.content }))
}

/** Current, non-deleted resources per type (all of the tenant's types, or the given ones). */
export async function countCurrent(db: Kysely<Database>, tenantId: string, types?: readonly string[]): Promise<Map<string, number>> {
  let query = db
    .selectFrom('resource')
    .select(['resource_type', (eb) => eb.fn.countAll<string>().as('n')])
    .where('tenant_id', '=', tenantId)
    .where('deleted', '=', false)
  if (types) query = query.where('resource_type', 'in', types.length ? [...types] : [''])
  const rows = await query.groupBy('resource_type').orderBy('resource_type').execute()
  return new Map(rows.map((r) => [r.resource_type, Number(r.n)]))
}

/**
 * Replaces the index rows of a batch in ONE statement (BatchIndexRows.syncCtes), for the resources
 * still at the version the walk read: the others were written meanwhile and already carry their
 * newest version's rows.
 *
 * The resource row itself is deleted and re-inserted unchanged. That is what makes a concurrent
 * writer safe: a writer's statement deletes the old index rows it sees in its snapshot, so a
 * writer whose snapshot predates this commit would not see (nor delete) the rows inserted here,
 * and they would outlive its version. A re-inserted row is a new tuple, not the next one in an
 * update chain, so that writer's `UPDATE ... WHERE version_id = n` finds its row deleted, writes
 * nothing and retries (pg-repository.ts) with a fresh snapshot that sees these rows. A writer
 * that locked the row first makes this DELETE skip it (its re-check sees the new version).
 * Returns the ids replaced.
 */
export async function replaceBatch(
  db: Kysely<Database>,
  tenantId: string,
  resourceType: string,
  walked: readonly WalkedRow[],
  rows: BatchIndexRows,
): Promise<Set<string>> {
  const ids = walked.map((r) => r.id)
  const versions = walked.map((r) => r.versionId)
  const statement = sql<{ id: string }>`
    WITH batch AS (
      SELECT * FROM unnest(${ids}::text[], ${versions}::int4[]) AS b(id, version_id)
    ), gone AS (
      DELETE FROM resource r USING batch b
      WHERE r.tenant_id = ${tenantId} AND r.resource_type = ${resourceType} AND r.id = ANY(${ids}::text[])
        AND r.id = b.id AND r.version_id = b.version_id AND NOT r.deleted
      RETURNING r.*
    ), moved AS (
      INSERT INTO resource SELECT * FROM gone RETURNING id
    ), skipped AS (
      SELECT id FROM batch WHERE id NOT IN (SELECT id FROM moved)
    ), ${sql.join(rows.syncCtes(tenantId, resourceType, ids, 'skipped'), sql`, `)}
    SELECT id FROM moved`
  // The per-row probes make the plan's estimate large enough for JIT compilation, which cost
  // ~100 ms of a ~220 ms batch of 500 (PostgreSQL 15): off for this statement only.
  const run = async (trx: Kysely<Database>) => {
    await sql`SET LOCAL jit = off`.execute(trx)
    return statement.execute(trx)
  }
  const result = db.isTransaction ? await run(db) : await db.transaction().execute(run)
  return new Set(result.rows.map((r) => r.id))
}
