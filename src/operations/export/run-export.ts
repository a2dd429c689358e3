import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Resource } from '@medplum/fhirtypes'
import type { ExportReader, Repository, RequestScope } from '../../resources/index.js'
import type { JobContext, JobOutput } from '../jobs/index.js'
import type { ExportParams } from './params.js'

/** Everything one export job needs, decided at kick-off. */
export interface ExportPlan {
  readonly scope: RequestScope
  readonly repo: Repository
  readonly reader: ExportReader
  readonly requestUrl: string
  /** transactionTime: the snapshot instant every file reflects. */
  readonly transactionTime: Date
  /** The types to export, in order. */
  readonly types: readonly string[]
  readonly params: ExportParams
  /** Patient compartment restriction: absent = whole tenant; `patientIds` absent = every patient. */
  readonly compartment?: { readonly patientIds?: readonly string[] }
}

/** Rows per keyset batch: each batch is one indexed query and one file write. */
export const EXPORT_BATCH = 1000
/**
 * Lines are written in chunks below V8's large-object size (128 KB): one string per batch (1.7 MB)
 * went to the large-object space, which only a full GC frees, so the heap's peak grew with the
 * export's size (+271 MB at 1,000,000 resources) although nothing stayed alive.
 */
const CHUNK_CHARS = 60_000

/**
 * Bulk Data manifest (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status):
 * one `[Type].ndjson` file per type that has resources.
 */
export interface ExportManifest {
  transactionTime: string
  request: string
  requiresAccessToken: true
  output: { type: string; url: string; count: number }[]
  error: { type: string; url: string; count: number }[]
}

/**
 * Runs an export: per type, keyset batches of EXPORT_BATCH rows written straight to the file
 * (backpressure respected), so memory stays flat whatever the number of resources.
 */
export async function runExport(plan: ExportPlan, ctx: JobContext): Promise<JobOutput> {
  const output: ExportManifest['output'] = []
  let done = 0
  for (const [index, type] of plan.types.entries()) {
    ctx.signal.throwIfAborted()
    const filters = plan.params.typeFilters.get(type)
    const allowed = filters ? await matchingIds(plan, type, filters, ctx.signal) : undefined
    const name = `${type}.ndjson`
    let file: Writable | undefined
    let count = 0
    let after: string | undefined
    for (;;) {
      ctx.signal.throwIfAborted()
      const batch = await plan.reader.batch({
        tenantId: plan.scope.tenantId,
        resourceType: type,
        after,
        limit: EXPORT_BATCH,
        until: plan.transactionTime,
        since: plan.params.since,
        compartment: plan.compartment,
      })
      let text = ''
      for (const row of batch.rows) {
        if (allowed && !allowed.has(row.id)) continue
        if (!visible(plan.scope, row.json)) continue
        // Stored JSON is compact; a newline would break the NDJSON line structure.
        text += (row.json.includes('\n') ? JSON.stringify(JSON.parse(row.json)) : row.json) + '\n'
        count++
        if (text.length >= CHUNK_CHARS) {
          file ??= ctx.files.create(name)
          if (!file.write(text)) await drained(file, ctx.signal)
          text = ''
        }
      }
      if (text) {
        file ??= ctx.files.create(name)
        if (!file.write(text)) await drained(file, ctx.signal)
      }
      done += batch.rows.length
      ctx.progress(done, undefined, `${type}: ${count} resources written (type ${index + 1} of ${plan.types.length})`)
      if (!batch.next) break
      after = batch.next
    }
    if (file) {
      await ctx.files.finish(file)
      output.push({ type, url: ctx.files.url(name), count })
    }
  }
  const manifest: ExportManifest = {
    transactionTime: plan.transactionTime.toISOString(),
    request: plan.requestUrl,
    requiresAccessToken: true,
    output,
    error: [],
  }
  return { result: manifest }
}

/** Waits for a file to take more data, or for the job to be cancelled. */
async function drained(file: Writable, signal: AbortSignal): Promise<void> {
  await once(file, 'drain', { signal })
}

/**
 * A token with a per-resource policy (patient compartment, granular scope filters) sees only
 * what that policy allows; other tokens export the stored text without parsing it.
 */
function visible(scope: RequestScope, json: string): boolean {
  return !scope.access || scope.access.allows(JSON.parse(json) as Resource, 'read')
}

/** Ids of the resources of `type` matching any of the type's `_typeFilter` queries. */
async function matchingIds(
  plan: ExportPlan,
  type: string,
  filters: readonly (readonly (readonly [string, string])[])[],
  signal: AbortSignal,
): Promise<Set<string>> {
  const ids = new Set<string>()
  for (const params of filters) {
    let cursor: string | undefined
    do {
      signal.throwIfAborted()
      const page = await plan.repo.search(plan.scope, {
        resourceType: type,
        params: [...params, ['_count', String(EXPORT_BATCH)], ['_total', 'none'], ...(cursor ? [['_cursor', cursor] as const] : [])],
        strict: true,
      })
      for (const entry of page.entries) ids.add(entry.id)
      cursor = page.next
    } while (cursor)
  }
  return ids
}
