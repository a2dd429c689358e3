import type { Bundle } from '@medplum/fhirtypes'
import { processBundle, type BundleContext } from '../../bundles/index.js'
import { isFhirError } from '../../errors.js'
import type { Repository, RequestScope } from '../../resources/index.js'
import { importLines, type ImportOptions, type ImportReport } from './engine.js'
import type { InputLine } from './lines.js'

/**
 * Imports one JSON document (a `.json` file): a `transaction` or `batch` Bundle is processed as
 * `POST [base]` would (http.html#transaction: `urn:uuid:` and conditional references resolved,
 * a transaction all-or-nothing); any other Bundle (collection, searchset...) has its entry
 * resources imported like NDJSON lines, by the import rule; a single resource is one line.
 * In the report, "line" n of a Bundle is its entry n (1-based).
 */
export async function importJsonDocument(
  target: { readonly repo: Repository; readonly scope: RequestScope; readonly baseUrl: string },
  input: string,
  text: string,
  options: ImportOptions = {},
): Promise<ImportReport> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return failedDocument(input, 1, 1, 'invalid', `Not valid JSON: ${(e as Error).message}`)
  }
  const bundle = value as Partial<Bundle>
  if (bundle?.resourceType === 'Bundle' && (bundle.type === 'transaction' || bundle.type === 'batch')) {
    return importBundle(target, input, bundle, options)
  }
  const resources: unknown[] = bundle?.resourceType === 'Bundle' ? (bundle.entry ?? []).map((e) => e.resource) : [value]
  async function* lines(): AsyncGenerator<InputLine> {
    for (const [i, resource] of resources.entries()) yield { line: i + 1, text: JSON.stringify(resource ?? null) }
  }
  return importLines(target, input, lines(), options)
}

async function importBundle(
  target: { readonly repo: Repository; readonly scope: RequestScope; readonly baseUrl: string },
  input: string,
  bundle: Partial<Bundle>,
  options: ImportOptions,
): Promise<ImportReport> {
  const entries = bundle.entry?.length ?? 0
  const ctx: BundleContext = {
    repo: target.repo,
    scope: target.scope,
    baseUrl: target.baseUrl,
    maxEntries: Number.MAX_SAFE_INTEGER,
    // Whoever runs the import owns the tenant (CLI) or was checked before the job started ($import).
    authorize: () => {},
  }
  let result
  try {
    options.signal?.throwIfAborted()
    result = await processBundle(ctx, bundle)
  } catch (e) {
    if (!isFhirError(e)) throw e
    // A failed transaction wrote nothing: every entry failed, the error names the one that caused it.
    const at = /^Bundle\.entry\[(\d+)\]/.exec(e.issues[0]?.expression?.[0] ?? '')
    return failedDocument(input, entries, at ? Number(at[1]) + 1 : 1, e.kind, e.message)
  }
  const report: ImportReport = { input, lines: entries, created: 0, updated: 0, unchanged: 0, failed: 0, failures: [], failuresOmitted: 0 }
  result.entries.forEach((entry, i) => {
    if (entry.kind === 'created') report.created++
    else if (entry.kind === 'updated' || entry.kind === 'patched' || entry.kind === 'deleted') report.updated++
    else if (entry.kind === 'matched' || entry.kind === 'read' || entry.kind === 'searched') report.unchanged++
    else if (entry.kind === 'failed') {
      const expression = entry.error.issues[0]?.expression
      report.failed++
      report.failures.push({ line: i + 1, kind: entry.error.kind, reason: entry.error.message, ...(expression ? { expression } : {}) })
    }
  })
  options.onProgress?.(report)
  return report
}

function failedDocument(input: string, lines: number, line: number, kind: string, reason: string): ImportReport {
  return { input, lines, created: 0, updated: 0, unchanged: 0, failed: lines, failures: [{ line, kind, reason }], failuresOmitted: 0 }
}

