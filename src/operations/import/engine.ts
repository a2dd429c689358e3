import type { Resource } from '@medplum/fhirtypes'
import type { FhirError } from '../../errors.js'
import { attachNumberText, BULK_BATCH_SIZE, type BulkWriteItem, type Repository, type RequestScope } from '../../resources/index.js'
import type { InputLine } from './lines.js'

/** Running totals of one input. `unchanged`: equal to the stored version, nothing written (a re-import). */
export interface ImportCounts {
  lines: number
  created: number
  updated: number
  unchanged: number
  failed: number
}

/** A line that was not imported, and why. */
export interface ImportFailure {
  readonly line: number
  /** The FhirError kind (`invalid`, `precondition-failed`, ...). */
  readonly kind: string
  readonly reason: string
  /** Where in the resource, when known (`Patient.birthDate`). */
  readonly expression?: readonly string[]
}

export interface ImportReport extends ImportCounts {
  /** The input's name: a file path or the URL it was read from. */
  readonly input: string
  /** The first `maxFailures` failures, by line. */
  readonly failures: ImportFailure[]
  /** Failures past `maxFailures`, counted but not listed. */
  failuresOmitted: number
}

export interface ImportOptions {
  /** The type the input declares (`input.type` of a Parameters kick-off): a line of another type fails. */
  readonly expectedType?: string
  /** Aborts between batches (job cancelled, server stopping). */
  readonly signal?: AbortSignal
  readonly batchSize?: number
  /** Failures listed in the report; more are only counted. */
  readonly maxFailures?: number
  /** Called after every batch with the totals so far. */
  onProgress?(counts: Readonly<ImportCounts>): void
}

/** Batches written at once: one validates and indexes in Node while the other is in PostgreSQL. */
const IN_FLIGHT = 2
const DEFAULT_MAX_FAILURES = 10_000
/** Lines after which the first statistics refresh is asked for; then at every doubling. */
const ANALYZE_FIRST = 10_000

/**
 * The import engine: reads NDJSON lines, parses each, and writes them through
 * `Repository.writeMany` in batches (each batch one database transaction), with the import rule
 * of README "Bulk import": a resource whose first identifier (system|value) is carried by a
 * resource of its type in the tenant updates that one (or leaves it unchanged when the content is
 * equal), one with an `id` is written with that id (update-as-create), any other is created.
 * A bad line (not JSON, not a resource, wrong type, invalid) is reported with its line number
 * and never stops the good ones. Errors other than per-line ones (the database is gone, the
 * signal aborted) are thrown.
 */
export async function importLines(
  target: { readonly repo: Repository; readonly scope: RequestScope },
  input: string,
  lines: AsyncIterable<InputLine>,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const report: ImportReport = { input, lines: 0, created: 0, updated: 0, unchanged: 0, failed: 0, failures: [], failuresOmitted: 0 }
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES
  const batchSize = options.batchSize ?? BULK_BATCH_SIZE
  const fail = (line: number, error: Pick<FhirError, 'kind' | 'message' | 'issues'>) => {
    report.failed++
    if (report.failures.length >= maxFailures) return void report.failuresOmitted++
    const expression = error.issues[0]?.expression
    report.failures.push({ line, kind: error.kind, reason: error.message, ...(expression?.length ? { expression } : {}) })
  }
  const inFlight = new Map<Promise<void>, Set<string>>()
  let broken: { error: unknown } | undefined
  let nextAnalyze = ANALYZE_FIRST
  const write = async (batch: Parsed[]) => {
    // Statistics refreshed as the load doubles (BulkWriteOptions.analyze): the identifier probes stay index lookups.
    const analyze = report.lines >= nextAnalyze
    if (analyze) nextAnalyze *= 2
    try {
      const outcomes = await target.repo.transaction(target.scope, (repo) =>
        repo.writeMany(target.scope, batch.map((p) => p.item), { skipUnchanged: true, ...(analyze ? { analyze } : {}) }),
      )
      outcomes.forEach((outcome, n) => {
        if (outcome.status === 'failed') fail(batch[n]!.line, outcome.error)
        else report[outcome.status]++
      })
      options.onProgress?.(report)
    } catch (error) {
      broken ??= { error }
    }
  }
  const submit = async (batch: Parsed[]) => {
    options.signal?.throwIfAborted()
    const keys = new Set(batch.map((p) => p.key))
    // A batch that touches what a batch in flight touches waits for it: the later line must see the earlier one.
    const overlapping = [...inFlight].filter(([, k]) => [...keys].some((key) => k.has(key))).map(([p]) => p)
    if (overlapping.length) await Promise.all(overlapping)
    while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight.keys())
    if (broken) throw broken.error
    const running: Promise<void> = write(batch).finally(() => inFlight.delete(running))
    inFlight.set(running, keys)
  }
  let batch: Parsed[] = []
  try {
    for await (const { line, text } of lines) {
      report.lines++
      const parsed = parseLine(line, text, options.expectedType)
      if ('error' in parsed) {
        fail(line, parsed.error)
        continue
      }
      batch.push(parsed)
      if (batch.length >= batchSize) {
        await submit(batch)
        batch = []
      }
    }
    if (batch.length) await submit(batch)
  } finally {
    await Promise.all(inFlight.keys())
  }
  if (broken) throw broken.error
  options.signal?.throwIfAborted()
  report.failures.sort((a, b) => a.line - b.line)
  options.onProgress?.(report)
  return report
}

interface Parsed {
  readonly line: number
  readonly item: BulkWriteItem
  /** What the line writes, for ordering concurrent batches: `Type|system|value` or `Type/id`. */
  readonly key: string
}

type LineError = Pick<FhirError, 'kind' | 'message' | 'issues'>

function parseLine(line: number, text: string, expectedType: string | undefined): Parsed | { error: LineError } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return { error: lineError('invalid', `Not valid JSON: ${(e as Error).message}`) }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: lineError('invalid', `A line must be one JSON object (a FHIR resource), not ${Array.isArray(value) ? 'an array' : typeof value}`) }
  }
  const resource = value as Resource
  if (expectedType !== undefined && resource.resourceType !== expectedType) {
    return { error: lineError('invalid', `resourceType '${String(resource.resourceType)}' is not the input's declared type '${expectedType}'`, ['resourceType']) }
  }
  attachNumberText(resource, text)
  const first = (resource as { identifier?: { system?: unknown; value?: unknown }[] }).identifier
  const identifier = Array.isArray(first) ? first[0] : undefined
  const key =
    identifier && typeof identifier.value === 'string'
      ? `${String(resource.resourceType)}|${String(identifier.system ?? '')}|${identifier.value}`
      : `${String(resource.resourceType)}/${String(resource.id ?? `line-${line}`)}`
  return { line, item: { mode: 'identifier', resource }, key }
}

function lineError(kind: LineError['kind'], message: string, expression?: string[]): LineError {
  return { kind, message, issues: [{ diagnostics: message, code: 'structure', ...(expression ? { expression } : {}) }] }
}
