import { CompiledQuery, type Kysely, type Selectable } from 'kysely'
import type { Database, ResourceTable } from '../db/database.js'
import { PREPARED } from '../db/prepared-statements.js'
import type { IndexRows } from './indexing/rows.js'
import type { HistoryMethod, StoredResource } from './types.js'
import { isRetryable } from './transaction.js'
import { indexParams, insertVersionSql, replaceVersionSql, tablesWithRows } from './version-write-sql.js'

/** The current-row view a writer needs before deciding create vs update. */
export interface CurrentVersion {
  versionId: number
  lastUpdated: Date
  deleted: boolean
  json: string
}

export interface VersionWrite {
  tenantId: string
  resourceType: string
  id: string
  versionId: number
  lastUpdated: Date
  deleted: boolean
  method: HistoryMethod
  json: string
  /** The search index rows of this version (none for a delete). */
  index?: IndexRows
}

const READ_CURRENT_SQL =
  PREPARED + 'select "version_id", "last_updated", "deleted", "content" from "resource" where "tenant_id" = $1 and "resource_type" = $2 and "id" = $3'

type CurrentRow = Pick<Selectable<ResourceTable>, 'version_id' | 'last_updated' | 'deleted' | 'content'>

/**
 * SQL for current rows and history. Each write is ONE statement (data-modifying CTEs) that
 * writes the current row, the history row and the search index rows together: atomic without an
 * explicit transaction (so it also runs unchanged inside a caller's transaction), and one round
 * trip on the hot path.
 */
export class ResourceStore {
  constructor(private readonly db: Kysely<Database>) {}

  async readCurrent(tenantId: string, resourceType: string, id: string): Promise<CurrentVersion | undefined> {
    // Fixed text, parameters only: building and compiling this with the query builder cost
    // ~25 µs per read, a tenth of the hot path.
    const { rows } = await this.db.executeQuery(CompiledQuery.raw(READ_CURRENT_SQL, [tenantId, resourceType, id]))
    const row = rows[0] as CurrentRow | undefined
    return row && { versionId: row.version_id, lastUpdated: row.last_updated, deleted: row.deleted, json: row.content }
  }

  async readVersion(tenantId: string, resourceType: string, id: string, versionId: number): Promise<StoredResource | undefined> {
    const row = await this.db
      .selectFrom('resource_history')
      .select(['version_id', 'last_updated', 'deleted', 'content'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .where('version_id', '=', versionId)
      .executeTakeFirst()
    return row && toStored(resourceType, id, row)
  }

  /** Inserts version 1 (or a first version after nothing) with its index rows; false when the id already exists. */
  async insertNew(w: VersionWrite): Promise<boolean> {
    // No deletes: index rows exist only for a current, non-deleted row, and there is none.
    const fields = tablesWithRows(w.index)
    return this.writeVersion(insertVersionSql(fields), [...versionParams(w), ...indexParams(w.index, fields, w.tenantId, w.resourceType)])
  }

  /**
   * Replaces the current row only if it is still at `expectedVersionId`, and the resource's index
   * rows with `w.index` (none for a delete). Returns false when another writer got there first;
   * then nothing was written.
   */
  async replaceIfVersion(w: VersionWrite, expectedVersionId: number): Promise<boolean> {
    const fields = w.deleted ? [] : tablesWithRows(w.index)
    return this.writeVersion(replaceVersionSql(fields), [...versionParams(w), expectedVersionId, ...indexParams(w.index, fields, w.tenantId, w.resourceType)])
  }

  private async writeVersion(text: string, params: unknown[]): Promise<boolean> {
    try {
      const { rows } = await this.db.executeQuery(CompiledQuery.raw(text, params))
      return rows.length === 1
    } catch (e) {
      // A statement of its own that PostgreSQL chose as a deadlock's victim (it queued for a row that
      // two transaction Bundles locked in opposite orders) wrote nothing: answer "lost a race", and the
      // repository reads the current version again and retries. Inside a transaction the whole
      // transaction is aborted; withTransaction re-runs it.
      if (!this.db.isTransaction && isRetryable(e)) return false
      throw e
    }
  }
}

function versionParams(w: VersionWrite): unknown[] {
  return [w.tenantId, w.resourceType, w.id, w.versionId, w.lastUpdated, w.deleted, w.method, w.json]
}

export function toStored(
  resourceType: string,
  id: string,
  row: { version_id: number; last_updated: Date; deleted: boolean; content: string },
): StoredResource {
  return {
    resourceType,
    id,
    versionId: String(row.version_id),
    lastUpdated: row.last_updated.toISOString(),
    deleted: row.deleted,
    json: row.content,
  }
}
