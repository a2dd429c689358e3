import type { FhirIssue } from '../../errors.js'

/**
 * Joins @medplum/core's issues with those of the resource walk, dropping Medplum's echoes of a
 * problem the walk already states better:
 * - for a string where an object belongs, Medplum walks the characters and reports
 *   `Invalid additional property "0"` at `X.name.0`; the walk says "expected a JSON object" at `X.name`;
 * - for a nested resource of unknown type, Medplum stops with a pathless "Unknown data type: Project";
 *   the walk names the path.
 */
export function mergeIssues(structural: FhirIssue[], walked: FhirIssue[]): FhirIssue[] {
  const shapePaths = walked.filter((i) => i.code === 'structure').flatMap((i) => i.expression ?? [])
  if (shapePaths.length === 0) return [...structural, ...walked]
  const hasNestedTypeIssue = shapePaths.some((p) => p.endsWith('.resourceType'))
  const kept = structural.filter((issue) => {
    if (hasNestedTypeIssue && !issue.expression && issue.diagnostics.startsWith('Unknown data type')) return false
    const at = issue.expression?.[0]
    return !at || !shapePaths.some((p) => at.startsWith(`${p}.`))
  })
  return [...kept, ...walked]
}
