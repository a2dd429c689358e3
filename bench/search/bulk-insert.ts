/**
 * Column buffers for a batch of new resources (version 1) and their index rows, written as one
 * multi-row `INSERT ... SELECT FROM unnest(...)` per table: one statement per table per batch,
 * whatever the row count. The index rows are the server's own (src/resources/indexing), so the
 * tables hold exactly what POSTs would have written.
 */
import type pg from 'pg'
import { INDEX_FIELDS, INDEX_TABLE_COLUMNS, writtenColumns, type IndexField } from '../../src/resources/indexing/index-tables.js'
import { searchKey } from '../../src/resources/indexing/search-key.js'
import type { IndexRows } from '../../src/resources/indexing/rows.js'

interface Table {
  name: string
  /** Columns after (tenant_id, resource_type, id): IndexRows field (or pkey), column, array cast. */
  columns: readonly (readonly [field: string, column: string, cast: string])[]
}

/** The server's own description of the index tables (src/resources/indexing/index-tables.ts). */
const TABLES = Object.fromEntries(
  INDEX_FIELDS.map((field) => [field, { name: INDEX_TABLE_COLUMNS[field].table, columns: writtenColumns(field) }]),
) as unknown as Record<IndexField, Table>

type Kind = IndexField

export const INDEX_TABLE_NAMES = Object.values(TABLES).map((t) => t.name)

export class BulkBatch {
  private readonly resource = { tenant: [] as string[], type: [] as string[], id: [] as string[], lastUpdated: [] as string[], content: [] as string[] }
  private readonly index = new Map<Kind, { owner: string[][]; values: unknown[][] }>()
  resources = 0
  indexRows = 0

  add(tenantId: string, resourceType: string, id: string, lastUpdated: string, json: string, rows: IndexRows): void {
    const r = this.resource
    r.tenant.push(tenantId)
    r.type.push(resourceType)
    r.id.push(id)
    r.lastUpdated.push(lastUpdated)
    r.content.push(json)
    this.resources++
    for (const kind of INDEX_FIELDS) {
      const source = rows[kind] as unknown as Record<string, unknown[]>
      const n = source.param!.length
      if (n === 0) continue
      let buffer = this.index.get(kind)
      if (!buffer) {
        buffer = { owner: [[], [], []], values: TABLES[kind].columns.map(() => []) }
        this.index.set(kind, buffer)
      }
      for (let i = 0; i < n; i++) {
        buffer.owner[0]!.push(tenantId)
        buffer.owner[1]!.push(resourceType)
        buffer.owner[2]!.push(id)
      }
      const params = source.param as string[]
      TABLES[kind].columns.forEach(([field], c) => {
        // The lookup key (writtenColumns) is the writer's to compute, as the server's writers do.
        const values = field === 'pkey' ? params.map((p) => searchKey(tenantId, resourceType, p)) : source[field]!
        for (let i = 0; i < n; i++) buffer.values[c]!.push(values[i])
      })
      this.indexRows += n
    }
  }

  /** The statements that write the batch; any order (no foreign keys between these tables). */
  statements(): { text: string; values: unknown[] }[] {
    const r = this.resource
    const owner = [r.tenant, r.type, r.id, r.lastUpdated, r.content]
    const out: { text: string; values: unknown[] }[] = [
      {
        text: `INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, deleted, content)
          SELECT t, y, i, 1, l, false, c FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS u(t, y, i, l, c)`,
        values: owner,
      },
      {
        text: `INSERT INTO resource_history (tenant_id, resource_type, id, version_id, last_updated, deleted, method, content)
          SELECT t, y, i, 1, l, false, 'POST', c FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS u(t, y, i, l, c)`,
        values: owner,
      },
    ]
    for (const [kind, buffer] of this.index) {
      const table: Table = TABLES[kind]
      const columns = table.columns.map(([, c]) => c)
      const casts = ['text', 'text', 'text', ...table.columns.map(([, , cast]) => cast)].map((cast, i) => `$${i + 1}::${cast}[]`)
      out.push({
        text: `INSERT INTO ${table.name} (tenant_id, resource_type, id, ${columns.join(', ')}) SELECT * FROM unnest(${casts.join(', ')})`,
        values: [...buffer.owner, ...buffer.values],
      })
    }
    return out
  }
}

/** Runs a batch's statements on one connection, in one transaction (a batch is all or nothing). */
export async function writeBatch(client: pg.PoolClient, batch: BulkBatch): Promise<void> {
  await client.query('BEGIN')
  try {
    for (const s of batch.statements()) await client.query(s.text, s.values)
    await client.query('COMMIT')
  } catch (e) {
    await client.query('ROLLBACK')
    throw e
  }
}
