import type { Readable, Writable } from 'node:stream'
import type { FhirIssue } from '../../errors.js'
import type { JobStatusCode } from '../../resources/index.js'

export type { JobStatusCode } from '../../resources/index.js'

/** Who a job belongs to: its tenant and the caller (client and user of the token) that started it. */
export interface JobCaller {
  readonly tenantId: string
  /** An opaque string naming the token's client and user; only the same owner sees the job. */
  readonly owner: string
}

/** What a running job is handed. */
export interface JobContext {
  readonly jobId: string
  readonly tenantId: string
  /** Aborted when the job is cancelled (DELETE) or the server shuts down: stop at the next check. */
  readonly signal: AbortSignal
  /**
   * Reports progress; cheap to call per batch: the row is written at most every
   * `progressIntervalMs`, and the last values are written when the job ends.
   */
  progress(done: number, total?: number, message?: string): void
  /** This job's file store folder (bulk output, uploaded input). */
  readonly files: JobFiles
}

/** The files of one job (local files under BULK_DIR/<tenant>/<job>/). */
export interface JobFiles {
  /** A new file (or replaced); `name` is 1-100 of [A-Za-z0-9._-], not starting with a dot. */
  create(name: string): Writable
  /** Resolves when `stream` (from create) has flushed and closed. */
  finish(stream: Writable): Promise<void>
  /** The URL the file is served at: `[base]/$job/<id>/file/<name>`. */
  url(name: string): string
}

/** What a job's `run` resolves to: the JSON body a completed job's status answers with. */
export interface JobOutput {
  readonly result: unknown
}

export interface JobSpec {
  /** Short name: 'export', 'import', 'reindex'. */
  readonly kind: string
  /** The kick-off request URL (the Bulk Data manifest repeats it). */
  readonly requestUrl: string
  /** `[base]` of the tenant, used for file URLs (`[base]/$job/<id>/file/<name>`). */
  readonly baseUrl: string
  /**
   * The work. Throw a FhirError to fail the job with that outcome; any other error fails it
   * with a 500 outcome (and is logged). Check `ctx.signal` between batches.
   */
  run(ctx: JobContext): Promise<JobOutput>
}

/** A job as a status poll sees it. */
export interface JobStatus {
  readonly jobId: string
  readonly kind: string
  readonly status: JobStatusCode
  readonly requestUrl: string
  readonly progress: { readonly done: number; readonly total?: number; readonly message?: string }
  /** The output of a completed job. */
  readonly result?: unknown
  /** Why a failed job failed (a FhirError's kind and issues; src/fhir maps them to a status). */
  readonly error?: { readonly kind: string; readonly issues: readonly FhirIssue[] }
  readonly createdAt: string
  readonly finishedAt?: string
}

/** The answer to a status poll: the job, and whether the poll came too soon after the previous one. */
export interface JobPoll {
  readonly job: JobStatus
  /** Polled faster than allowed: answer 429 with Retry-After, nothing else. */
  readonly throttled: boolean
  /** Seconds a client should wait before the next poll (Retry-After). */
  readonly retryAfterSeconds: number
}

/** A readable file with its size. */
export interface OpenedFile {
  readonly stream: Readable
  readonly size: number
}
