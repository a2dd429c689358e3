import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes'
import type { ImportReport } from './engine.js'

/** Extension on each file's OperationOutcome carrying its counts as integers (machine-readable twin of the summary). */
export const IMPORT_COUNTS_URL = 'https://segimed.health/fhir/StructureDefinition/import-counts'

/** The rule every import applies, repeated in each result so a reader of the outcome knows it. */
export const IMPORT_RULE =
  'Import rule: a resource whose first identifier (system|value) is carried by a resource of the same type in this tenant updates that resource ' +
  '(or leaves it unchanged when the content is equal); otherwise a resource with an id is written with that id (update-as-create); any other is created.'

/** issue.code for a failed line, by FhirError kind. */
const CODE_OF: Record<string, OperationOutcomeIssue['code']> = {
  invalid: 'invalid',
  'not-found': 'not-found',
  forbidden: 'forbidden',
  conflict: 'conflict',
  'precondition-failed': 'multiple-matches',
  unprocessable: 'processing',
}

/**
 * One OperationOutcome per input: an information issue with the counts (created, updated,
 * unchanged, failed) and the import rule, then one error issue per failed line, giving its line
 * number (`location`, and first in `diagnostics`) and reason.
 */
export function importOutcome(report: ImportReport): OperationOutcome {
  const { input, lines, created, updated, unchanged, failed, failuresOmitted } = report
  const summary =
    `${input}: ${lines} line${lines === 1 ? '' : 's'}: ${created} created, ${updated} updated, ${unchanged} unchanged, ${failed} failed` +
    (failuresOmitted ? ` (${failuresOmitted} failures not listed)` : '') +
    `. ${IMPORT_RULE}`
  const counts = { lines, created, updated, unchanged, failed }
  return {
    resourceType: 'OperationOutcome',
    extension: [
      {
        url: IMPORT_COUNTS_URL,
        extension: [
          { url: 'input', valueString: input },
          ...Object.entries(counts).map(([url, valueInteger]) => ({ url, valueInteger })),
        ],
      },
    ],
    issue: [
      { severity: failed ? 'warning' : 'information', code: 'informational', diagnostics: summary },
      ...report.failures.map(
        (f): OperationOutcomeIssue => ({
          severity: 'error',
          code: CODE_OF[f.kind] ?? 'processing',
          diagnostics: `line ${f.line}: ${f.reason}`,
          location: [`line ${f.line}`],
          ...(f.expression ? { expression: [...f.expression] } : {}),
        }),
      ),
    ],
  }
}

/** The result of an import job: a `collection` Bundle of the per-input OperationOutcomes, in input order. */
export function importResultBundle(reports: readonly ImportReport[], transactionTime: Date): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: transactionTime.toISOString(),
    entry: reports.map((r) => ({ resource: importOutcome(r) })),
  }
}
