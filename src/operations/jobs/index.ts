/**
 * Asynchronous jobs: the async request pattern (https://hl7.org/fhir/R4/async.html, Bulk Data
 * https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-status-request) for `$export`, `$import`,
 * `$reindex` and any other long operation.
 *
 * A job is a row in `async_job` (migrations/0005_jobs.sql, keyed by tenant then job id) and a
 * promise in the process that accepted it. Progress goes to the row (throttled); any instance
 * answers polls from the row. Built once in src/services.ts and handed to operations as
 * `OperationContext.jobs`, with the caller as `OperationContext.caller`.
 *
 * Use from an operation (see src/operations/export/ for a full example):
 *
 * ```ts
 * async run({ jobs, caller, scope, baseUrl, requestUrl, repo }) {
 *   const jobId = await jobs.start(jobCaller(caller, scope), {
 *     kind: 'import', requestUrl, baseUrl,
 *     async run({ signal, progress, files }) {
 *       for (...) { signal.throwIfAborted(); ...; progress(done, total, 'importing Patient') }
 *       return { result: outcome }             // what a 200 status poll answers
 *     },
 *   })
 *   return acceptedJob(jobs, baseUrl, jobId)  // ../async.ts: 202 + Content-Location: [base]/$job/<id>
 * }
 * ```
 *
 * HTTP (src/fhir/routes/jobs.ts), for every job kind:
 * - `GET [base]/$job/<id>`: 202 + `X-Progress` + `Retry-After` while accepted or running; 200 with
 *   the job's result when completed; the failure's OperationOutcome with its 4xx/5xx status when
 *   failed; 429 + Retry-After when polled sooner than JOB_MIN_POLL_MS after the previous poll;
 *   404 for an unknown job, another tenant's or another client's, or a cancelled one.
 * - `DELETE [base]/$job/<id>`: 202; the job's signal aborts, its files are deleted, polls then 404.
 * - `GET [base]/$job/<id>/file/<name>`: a file the job wrote, `application/fhir+ndjson`.
 *
 * Errors: `start` throws `internal` while the server shuts down; `poll`, `status`, `cancel`,
 * `openFile` throw `not-found` for a job that is not the caller's; `openUrl` (for `$import`
 * reading an earlier export) throws `not-found` for a URL that is not a file of this tenant.
 */
export { createJobs, type Jobs, type JobsOptions } from './runner.js'
export { createBulkFileStore, type BulkFileStore } from './file-store.js'
export type { JobCaller, JobContext, JobFiles, JobOutput, JobPoll, JobSpec, JobStatus, JobStatusCode, OpenedFile } from './types.js'
