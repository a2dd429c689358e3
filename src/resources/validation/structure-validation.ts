import { OperationOutcomeError, validateResource as medplumValidateResource } from '@medplum/core'
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes'
import type { FhirIssue } from '../../errors.js'

/** What to write instead, for the primitive formats whose @medplum/core message is just "Invalid X format". */
const FORMAT_HINTS: Readonly<Record<string, string>> = {
  date: 'use YYYY, YYYY-MM or YYYY-MM-DD, e.g. 1970-01-31',
  dateTime: 'use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone, e.g. 2015-02-07T13:28:17+01:00',
  instant: 'use YYYY-MM-DDThh:mm:ss(.sss) with a time zone, e.g. 2015-02-07T13:28:17.239Z',
  time: 'use hh:mm:ss, e.g. 13:28:17',
  id: 'use 1 to 64 characters among A-Z, a-z, 0-9, "-" and "."',
  code: 'use non-empty text without leading, trailing or double spaces',
  oid: 'use urn:oid: followed by dotted digits, e.g. urn:oid:1.2.3',
  uuid: 'use urn:uuid: followed by a lower-case UUID',
  base64Binary: 'use base64 without line breaks or spaces',
  uri: 'remove whitespace',
  url: 'remove whitespace',
  canonical: 'remove whitespace',
}

/**
 * Structural validation against the R4 base StructureDefinition by @medplum/core: cardinality,
 * JSON types, primitive formats, unknown properties and the FHIRPath invariants it evaluates.
 * Medplum throws an OperationOutcomeError when any issue is an error and returns the warnings
 * otherwise; both become FhirIssues, one per validator issue (STYLE.md, "Error handling").
 * See https://hl7.org/fhir/R4/validation.html
 */
export function validateStructure(resource: Resource): FhirIssue[] {
  try {
    return medplumValidateResource(resource).map(toFhirIssue)
  } catch (err) {
    if (err instanceof OperationOutcomeError) return (err.outcome.issue ?? []).map(toFhirIssue)
    // Anything else is the validator choking on the input (e.g. a shape its crawler does not expect).
    // The resource is still rejected, with a message that does not pretend to know more.
    return [
      {
        severity: 'error',
        code: 'structure',
        diagnostics: `The resource could not be validated (${err instanceof Error ? err.message : String(err)}); check its structure`,
      },
    ]
  }
}

function toFhirIssue(issue: OperationOutcomeIssue): FhirIssue {
  const text = issue.details?.text ?? issue.diagnostics ?? 'Invalid resource'
  const expression = issue.expression?.filter((e) => e !== '')
  const where = expression?.length ? ` at ${expression.join(', ')}` : ''
  const result: FhirIssue = {
    severity: isConflictingChoice(text) ? 'error' : issue.severity,
    code: issue.code,
    diagnostics: `${text}${where}${suffix(text, issue.diagnostics)}`,
  }
  if (expression?.length) result.expression = expression
  return result
}

/**
 * Medplum reports two values for one choice element (`valueString` and `valueBoolean`) as a warning
 * "to avoid breaking existing code"; R4 allows one (https://hl7.org/fhir/R4/formats.html#choice), and
 * storing both would leave readers to guess which one counts.
 */
function isConflictingChoice(text: string): boolean {
  return text.startsWith('Conflicting choice of type properties')
}

/** The fix hint for format errors, or the FHIRPath of a failed invariant. */
function suffix(text: string, data: string | undefined): string {
  const format = /^Invalid (\w+) format$/.exec(text)?.[1]
  const hint = format ? FORMAT_HINTS[format] : undefined
  if (hint) return `; ${hint}`
  if (text.startsWith('Invalid additional property')) return '; remove it or fix its spelling (names are case-sensitive)'
  const fhirpath = data ? parseFhirPath(data) : undefined
  return fhirpath ? ` (rule: ${fhirpath})` : ''
}

function parseFhirPath(data: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data)
    if (typeof parsed === 'object' && parsed !== null && 'fhirpath' in parsed && typeof parsed.fhirpath === 'string') {
      return parsed.fhirpath
    }
  } catch {
    // medplum's diagnostics are JSON by construction; a non-JSON string simply has no rule to show
  }
  return undefined
}
