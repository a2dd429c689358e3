import { FhirError } from '../errors.js'

/**
 * The error of a failed transaction, naming the entry that failed (index and fullUrl) in every
 * issue's diagnostics and `Bundle.entry[i]` as the first expression; the entry's own
 * expressions (`Patient.birthDate`) are re-rooted at `Bundle.entry[i].resource`. The kind, and
 * so the HTTP status, stays the entry's (http.html#transaction: the status of the failure).
 */
export function atEntry(entry: { index: number; fullUrl?: string }, error: FhirError, resourceType?: string): FhirError {
  const where = `Bundle.entry[${entry.index}]`
  const label = `${where}${entry.fullUrl ? ` (fullUrl ${entry.fullUrl})` : ''}`
  const issues = error.issues.map((issue) => ({
    ...issue,
    diagnostics: `${label}: ${issue.diagnostics}`,
    expression: [where, ...(issue.expression ?? []).map((e) => reRoot(e, where, resourceType))],
  }))
  // The entry's own headers (an ETag of the resource it hit) would mislead on the Bundle's reply.
  return new FhirError(error.kind, `${label}: ${error.message}`, { issues })
}

function reRoot(expression: string, where: string, resourceType: string | undefined): string {
  if (expression.startsWith(`${where}.`) || expression === where) return expression
  if (resourceType && (expression === resourceType || expression.startsWith(`${resourceType}.`) || expression.startsWith(`${resourceType}[`))) {
    return `${where}.resource${expression.slice(resourceType.length)}`
  }
  if (expression.startsWith('resource') || expression.startsWith('request')) return `${where}.${expression}`
  return expression
}
