import type { IndexRows } from './rows.js'

/** One column of an index table: the IndexRows field, the SQL column, the SQL type of its array parameter. */
export type IndexColumn = readonly [field: string, column: string, pgType: string]

/**
 * The search index tables (migrations 0002, 0009), keyed by the IndexRows field that holds their rows,
 * with their columns after (tenant_id, resource_type, id). Every writer of index rows — a single
 * write (version-write-sql.ts), the bulk path (bulk-sql.ts), $reindex (reindex-sql.ts), the search bench
 * loader — reads this one description, so a table or column added here reaches them all. The order
 * is the order statements touch the tables (a fixed order keeps lock order stable).
 */
export const INDEX_TABLE_COLUMNS = {
  string: { table: 'search_string', columns: [['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['value', 'value', 'text'], ['exact', 'exact', 'text']] },
  token: {
    table: 'search_token',
    columns: [
      ['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['system', 'system', 'text'], ['code', 'code', 'text'], ['display', 'display', 'text'],
      ['typeSystem', 'type_system', 'text'], ['typeCode', 'type_code', 'text'],
    ],
  },
  reference: { table: 'search_reference', columns: [['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['refType', 'ref_type', 'text'], ['refId', 'ref_id', 'text']] },
  date: { table: 'search_date', columns: [['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['low', 'low', 'timestamptz'], ['high', 'high', 'timestamptz']] },
  number: { table: 'search_number', columns: [['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['low', 'low', 'numeric'], ['high', 'high', 'numeric']] },
  quantity: {
    table: 'search_quantity',
    columns: [
      ['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['low', 'low', 'numeric'], ['high', 'high', 'numeric'], ['system', 'system', 'text'],
      ['code', 'code', 'text'], ['unit', 'unit', 'text'],
    ],
  },
  uri: { table: 'search_uri', columns: [['param', 'param', 'text'], ['ord', 'ord', 'int2'], ['value', 'value', 'text']] },
  sort: { table: 'search_sort', columns: [['param', 'param', 'text'], ['lo', 'lo', 'text'], ['hi', 'hi', 'text']] },
  text: { table: 'search_text', columns: [['param', 'param', 'text'], ['words', 'words', 'text']] },
} as const satisfies Partial<Record<keyof IndexRows, { table: string; columns: readonly IndexColumn[] }>>

export type IndexField = keyof typeof INDEX_TABLE_COLUMNS
export const INDEX_FIELDS = Object.keys(INDEX_TABLE_COLUMNS) as IndexField[]

/**
 * The tables whose rows carry `pkey`, the int8 key of their (tenant, type, param) that leads the
 * lookup indexes (migration 0019). Writers send it after the table's columns (writtenColumns), its
 * values from search-key.ts; readers of those indexes give it (search/lookup-key.ts).
 */
export const KEYED_FIELDS: ReadonlySet<IndexField> = new Set(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri'])

const KEY_COLUMN: IndexColumn = ['pkey', 'pkey', 'int8']

/** The columns a writer sends for `field`'s rows: INDEX_TABLE_COLUMNS's, then `pkey` for a keyed table. */
export function writtenColumns(field: IndexField): readonly IndexColumn[] {
  return KEYED_FIELDS.has(field) ? [...INDEX_TABLE_COLUMNS[field].columns, KEY_COLUMN] : INDEX_TABLE_COLUMNS[field].columns
}

/** The index tables, in the order statements touch them (a fixed order keeps lock order stable). */
export const INDEX_TABLES = INDEX_FIELDS.map((field) => INDEX_TABLE_COLUMNS[field].table)
