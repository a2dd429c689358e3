import type { FhirIssue } from '../../errors.js'

/**
 * Joins @medplum/core's issues with those of the resource walk, dropping Medplum's echoes of a
 * problem the walk already states better:
 * - for a string where an object belongs, Medplum walks the characters and reports
 *   `Invalid additional property "0"` at `X.name.0` (or `X.value[x].0` for a choice element); the
 *   walk says "expected a JSON object" at `X.name`;
 * - for a nested resource of unknown type, Medplum stops with a pathless "Unknown data type: Project";
 *   the walk names the path.
 */
export function mergeIssues(structural: FhirIssue[], walked: FhirIssue[]): FhirIssue[] {
  const shapePaths = walked.filter((i) => i.code === 'structure').flatMap((i) => i.expression ?? [])
  if (shapePaths.length === 0) return [...structural, ...walked]
  const hasNestedTypeIssue = shapePaths.some((p) => p.endsWith('.resourceType'))
  const prefixes = shapePaths.flatMap(withChoiceForms).map((p) => `${p}.`)
  const kept = structural.filter((issue) => {
    if (hasNestedTypeIssue && !issue.expression && issue.diagnostics.startsWith('Unknown data type')) return false
    const at = issue.expression?.[0]
    return !at || !prefixes.some((p) => at.startsWith(p))
  })
  return [...kept, ...walked]
}

/**
 * Medplum names choice elements `value[x]` in its paths, the walk names them `valueQuantity`. The
 * type suffix cannot be told apart from the name without the schema (`effectiveDateTime`), so every
 * split at a capital letter is offered; this only runs when a resource is already invalid.
 */
function withChoiceForms(path: string): string[] {
  const dot = path.lastIndexOf('.')
  const parent = path.slice(0, dot + 1)
  const segment = path.slice(dot + 1).replace(/\[\d+\]$/, '')
  const forms = [path]
  for (let i = 1; i < segment.length; i++) {
    const char = segment.charAt(i)
    if (char >= 'A' && char <= 'Z') forms.push(`${parent}${segment.slice(0, i)}[x]`)
  }
  return forms
}
