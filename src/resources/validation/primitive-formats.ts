import { fhirTypeToJsType, validationRegexes } from '@medplum/core'

/** A problem in words, and what to write instead when there is a simple answer. */
export interface Problem {
  readonly text: string
  readonly hint?: string
}

/**
 * Checks one JSON value of a primitive FHIR type (https://hl7.org/fhir/R4/datatypes.html#primitive)
 * and returns its problem, or `undefined` when it is fine. Built once per type.
 */
export type PrimitiveCheck = (value: unknown) => Problem | undefined

/** FHIR strings have a maximum length of 1 MB (datatypes.html#string), as @medplum/core enforces. */
const MAX_STRING_LENGTH = 1024 * 1024

/** What to write instead, for the formats whose bare message would be just "Invalid X format". */
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
  string: 'remove control characters other than tab, carriage return and line feed',
  markdown: 'remove control characters other than tab, carriage return and line feed',
}

const jsTypes: Readonly<Record<string, string>> = fhirTypeToJsType

/** The JSON type (`string`, `number`, `boolean`) of a primitive FHIR type, or undefined if it is not one. */
export function jsTypeOf(fhirType: string): string | undefined {
  return jsTypes[fhirType]
}

/**
 * The same rules, messages and regular expressions as @medplum/core's validator (validationRegexes),
 * so that decisions match it: JSON type, non-blank strings of at most 1 MB, the format regex of the
 * type, integers for integer/positiveInt/unsignedInt with their signs. One rule of its own: no
 * U+0000 in any string, which @medplum/core lets into code and uri values.
 */
export function compilePrimitiveCheck(fhirType: string): PrimitiveCheck {
  const jsType = jsTypes[fhirType]
  if (!jsType) return () => ({ text: `Invalid JSON type: ${fhirType} is not a valid FHIR type` })
  const wrongType = (value: unknown): Problem => ({
    text: `Invalid JSON type: expected ${jsType}, but got ${describeJsType(value)}`,
    hint: `send a JSON ${jsType} of FHIR type ${fhirType}`,
  })
  if (jsType === 'boolean') return (value) => (typeof value === 'boolean' ? undefined : wrongType(value))
  if (jsType === 'number') return compileNumberCheck(fhirType, wrongType)
  const regex = validationRegexes[fhirType]
  const badFormat: Problem = { text: `Invalid ${fhirType} format`, hint: FORMAT_HINTS[fhirType] }
  return (value) => {
    if (typeof value !== 'string') return wrongType(value)
    if (!hasNonWhitespace(value)) return BLANK
    if (value.length > MAX_STRING_LENGTH) return TOO_LONG
    if (regex && !regex.test(value)) return badFormat
    // PostgreSQL text cannot hold U+0000, and the regexes of code, uri and their kin let it through.
    return value.includes('\u0000') ? NUL_CHARACTER : undefined
  }
}

const BLANK: Problem = { text: 'String must contain non-whitespace content', hint: 'leave the element out instead of sending blank text' }
const TOO_LONG: Problem = { text: 'String cannot be larger than 1 MB' }
const NUL_CHARACTER: Problem = { text: 'Invalid character U+0000 (NUL)', hint: 'remove it: FHIR strings carry no control characters other than tab, carriage return and line feed' }
const NOT_FINITE: Problem = { text: 'Invalid numeric value' }
const NOT_INTEGER: Problem = { text: 'Expected number to be an integer' }
const NOT_POSITIVE: Problem = { text: 'Expected number to be positive' }
const NEGATIVE: Problem = { text: 'Expected number to be non-negative' }

function compileNumberCheck(fhirType: string, wrongType: (value: unknown) => Problem): PrimitiveCheck {
  const isInteger = fhirType === 'integer' || fhirType === 'positiveInt' || fhirType === 'unsignedInt'
  return (value) => {
    if (typeof value !== 'number') return wrongType(value)
    if (!Number.isFinite(value)) return NOT_FINITE
    if (!isInteger) return undefined
    if (!Number.isInteger(value)) return NOT_INTEGER
    if (fhirType === 'positiveInt' && value <= 0) return NOT_POSITIVE
    if (fhirType === 'unsignedInt' && value < 0) return NEGATIVE
    return undefined
  }
}

/** `typeof`, but naming arrays and null as JSON does. */
export function describeJsType(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'array' : typeof value
}

/** `str.trim() !== ''` without allocating for the usual case of a printable first character. */
function hasNonWhitespace(str: string): boolean {
  const first = str.charCodeAt(0)
  if (first > 32 && first < 127) return true
  return str.trim() !== ''
}
