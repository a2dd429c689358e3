/**
 * FHIR operations (https://hl7.org/fhir/R4/operations.html): one file per operation, each a
 * descriptor with a pure `run` that never sees Fastify.
 */
export type { OperationCaller, OperationContext, OperationDescriptor, OperationLevel, OperationResult, OperationStores } from './types.js'
export { OPERATIONS, findOperation } from './registry.js'
/** Async jobs ($export, $import, $reindex): the job service, bulk file store and kick-off helpers. */
export { createBulkFileStore, createJobs, type BulkFileStore, type JobCaller, type JobPoll, type Jobs, type JobStatus, type OpenedFile } from './jobs/index.js'
export { acceptedJob, asyncContext, jobCaller } from './async.js'
/** Bulk import engine (NDJSON lines, JSON documents) shared by $import and the CLI `import` command. */
export { importJsonDocument, importLines, importOutcome, readLines, IMPORT_RULE, type ImportReport } from './import/index.js'
