/**
 * Bulk import: the NDJSON import engine (`importLines`, used by `$import` and the CLI's `import`
 * command), JSON documents (`importJsonDocument`: a resource or a Bundle), the line reader
 * (gzip detected by its magic bytes) and the per-input OperationOutcome. The import rule is
 * README "Bulk import" and `IMPORT_RULE`.
 */
export { importLines, type ImportCounts, type ImportFailure, type ImportOptions, type ImportReport } from './engine.js'
export { importJsonDocument } from './json-input.js'
export { readLines, type InputLine } from './lines.js'
export { IMPORT_COUNTS_URL, IMPORT_RULE, importOutcome, importResultBundle } from './outcome.js'
