import type { Kysely, Selectable } from 'kysely'
import type { Database } from '../db/database.js'
import type { AsyncJobTable, JobStatusCode } from '../db/job-tables.js'

export type { JobStatusCode } from '../db/job-tables.js'

/** One asynchronous job as stored (migrations/0005_jobs.sql). */
export interface JobRecord {
  readonly tenantId: string
  readonly jobId: string
  readonly kind: string
  readonly status: JobStatusCode
  readonly owner: string
  readonly requestUrl: string
  readonly progressDone: number
  readonly progressTotal?: number
  readonly progressMessage?: string
  /** JSON text of the job's answer (completed jobs). */
  readonly result?: string
  /** JSON text `{ kind, issues }` of the FhirError that failed the job. */
  readonly error?: string
  readonly createdAt: Date
  readonly startedAt?: Date
  readonly heartbeatAt: Date
  readonly finishedAt?: Date
  readonly lastPolledAt?: Date
}

export interface JobProgress {
  readonly done: number
  readonly total?: number
  readonly message?: string
}

export type JobEnd =
  | { readonly status: 'completed'; readonly result: string }
  | { readonly status: 'failed'; readonly error: string }

/**
 * SQL of the async_job table, for src/operations/jobs. Every statement keys on (tenant_id, job_id):
 * a job id of another tenant is simply not found.
 */
export interface JobStore {
  insert(job: { tenantId: string; jobId: string; kind: string; owner: string; requestUrl: string; now: Date }): Promise<void>
  get(tenantId: string, jobId: string): Promise<JobRecord | undefined>
  /**
   * Records a status poll unless the previous one was less than `minIntervalMs` before `now`
   * (then `throttled`, and the poll time is left as it was). Undefined for an unknown job.
   */
  poll(tenantId: string, jobId: string, now: Date, minIntervalMs: number): Promise<{ job: JobRecord; throttled: boolean } | undefined>
  /** accepted → in-progress; false when the job is no longer accepted (cancelled meanwhile). */
  start(tenantId: string, jobId: string, now: Date): Promise<boolean>
  /** Writes progress and the heartbeat of a running job; returns its status (a cancel shows here). */
  progress(tenantId: string, jobId: string, progress: JobProgress, now: Date): Promise<JobStatusCode | undefined>
  /** Heartbeat of jobs this process holds (running or queued). */
  heartbeat(jobs: readonly { tenantId: string; jobId: string }[], now: Date): Promise<void>
  /** Ends a job that is still accepted or in progress; false when it had ended (cancelled) already. */
  finish(tenantId: string, jobId: string, end: JobEnd, now: Date): Promise<boolean>
  /** Cancels a job that has not ended; returns the status it had, or undefined for an unknown job. */
  cancel(tenantId: string, jobId: string, now: Date): Promise<JobStatusCode | undefined>
  /** Marks a job failed when its heartbeat is older than `before` (its process died); true if it did. */
  failIfStale(tenantId: string, jobId: string, before: Date, error: string, now: Date): Promise<boolean>
}

const RUNNING: JobStatusCode[] = ['accepted', 'in-progress']

export function createJobStore(db: Kysely<Database>): JobStore {
  const key = (tenantId: string, jobId: string) =>
    db.selectFrom('async_job').selectAll().where('tenant_id', '=', tenantId).where('job_id', '=', jobId)

  return {
    async insert({ tenantId, jobId, kind, owner, requestUrl, now }) {
      await db
        .insertInto('async_job')
        .values({ tenant_id: tenantId, job_id: jobId, kind, owner, request_url: requestUrl, created_at: now, heartbeat_at: now })
        .execute()
    },

    async get(tenantId, jobId) {
      const row = await key(tenantId, jobId).executeTakeFirst()
      return row && toRecord(row)
    },

    async poll(tenantId, jobId, now, minIntervalMs) {
      const updated = await db
        .updateTable('async_job')
        .set({ last_polled_at: now })
        .where('tenant_id', '=', tenantId)
        .where('job_id', '=', jobId)
        .where((eb) => eb.or([eb('last_polled_at', 'is', null), eb('last_polled_at', '<=', new Date(now.getTime() - minIntervalMs))]))
        .returningAll()
        .executeTakeFirst()
      if (updated) return { job: toRecord(updated), throttled: false }
      const row = await key(tenantId, jobId).executeTakeFirst()
      return row && { job: toRecord(row), throttled: true }
    },

    async start(tenantId, jobId, now) {
      const r = await db
        .updateTable('async_job')
        .set({ status: 'in-progress', started_at: now, heartbeat_at: now })
        .where('tenant_id', '=', tenantId)
        .where('job_id', '=', jobId)
        .where('status', '=', 'accepted')
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    async progress(tenantId, jobId, progress, now) {
      // Only a running job takes progress; the status read back tells the runner about a cancel.
      const row = await db
        .updateTable('async_job')
        .set({
          progress_done: progress.done,
          progress_total: progress.total ?? null,
          progress_message: progress.message ?? null,
          heartbeat_at: now,
        })
        .where('tenant_id', '=', tenantId)
        .where('job_id', '=', jobId)
        .where('status', 'in', RUNNING)
        .returning('status')
        .executeTakeFirst()
      if (row) return row.status
      return (await key(tenantId, jobId).executeTakeFirst())?.status
    },

    async heartbeat(jobs, now) {
      for (const { tenantId, jobId } of jobs) {
        await db
          .updateTable('async_job')
          .set({ heartbeat_at: now })
          .where('tenant_id', '=', tenantId)
          .where('job_id', '=', jobId)
          .where('status', 'in', RUNNING)
          .execute()
      }
    },

    async finish(tenantId, jobId, end, now) {
      const r = await db
        .updateTable('async_job')
        .set(
          end.status === 'completed'
            ? { status: 'completed', result: end.result, finished_at: now, heartbeat_at: now }
            : { status: 'failed', error: end.error, finished_at: now, heartbeat_at: now },
        )
        .where('tenant_id', '=', tenantId)
        .where('job_id', '=', jobId)
        .where('status', 'in', RUNNING)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },

    async cancel(tenantId, jobId, now) {
      const before = await key(tenantId, jobId).executeTakeFirst()
      if (!before) return undefined
      await db
        .updateTable('async_job')
        .set({ status: 'cancelled', finished_at: now })
        .where('tenant_id', '=', tenantId)
        .where('job_id', '=', jobId)
        .where('status', '!=', 'cancelled')
        .execute()
      return before.status
    },

    async failIfStale(tenantId, jobId, before, error, now) {
      const r = await db
        .updateTable('async_job')
        .set({ status: 'failed', error, finished_at: now })
        .where('tenant_id', '=', tenantId)
        .where('job_id', '=', jobId)
        .where('status', 'in', RUNNING)
        .where('heartbeat_at', '<', before)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },
  }
}

function toRecord(row: Selectable<AsyncJobTable>): JobRecord {
  return {
    tenantId: row.tenant_id,
    jobId: row.job_id,
    kind: row.kind,
    status: row.status,
    owner: row.owner,
    requestUrl: row.request_url,
    progressDone: Number(row.progress_done),
    progressTotal: row.progress_total === null ? undefined : Number(row.progress_total),
    progressMessage: row.progress_message ?? undefined,
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    heartbeatAt: row.heartbeat_at,
    finishedAt: row.finished_at ?? undefined,
    lastPolledAt: row.last_polled_at ?? undefined,
  }
}
