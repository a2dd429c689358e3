import type { Parameters } from '@medplum/fhirtypes'
import { FhirError, invalid } from '../../errors.js'
import { isResourceType, parseDateRange } from '../../resources/index.js'

/** The kick-off parameters of $export (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters), checked. */
export interface ExportParams {
  /** `_type`: the types asked for, in the order given; undefined = every type the caller may read. */
  readonly types?: readonly string[]
  /** `_since`: only resources last updated at or after this instant. */
  readonly since?: Date
  /** `_typeFilter`: per type, search queries of which a resource must match at least one. */
  readonly typeFilters: ReadonlyMap<string, readonly (readonly (readonly [string, string])[])[]>
}

const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson'])
// Kick-off parameters of Bulk Data 2.0 that this server does not implement: refused by name,
// never silently ignored (the export would not be what the client asked for).
const UNSUPPORTED = new Set(['_elements', 'patient', 'includeAssociatedData', '_until'])

type Raw = Readonly<Record<string, string | string[] | undefined>>

/** Reads the parameters from the query (GET) or a Parameters body (POST); `invalid` names a bad one. */
export function parseExportParams(query: Raw, body: unknown): ExportParams {
  const values = collect(query, body)
  for (const name of values.keys()) {
    if (UNSUPPORTED.has(name)) throw invalid(`$export parameter ${name} is not supported by this server; leave it out`, { code: 'not-supported', expression: [name] })
  }
  const format = single(values, '_outputFormat')
  if (format !== undefined && !OUTPUT_FORMATS.has(format.trim())) {
    throw invalid(`_outputFormat '${format.slice(0, 100)}' is not supported: use application/fhir+ndjson (or application/ndjson, ndjson)`, { expression: ['_outputFormat'] })
  }
  const types = list(values, '_type')
  for (const type of types ?? []) {
    if (!isResourceType(type)) throw invalid(`_type names '${type.slice(0, 64)}', which is not an R4 resource type`, { expression: ['_type'] })
  }
  const sinceText = single(values, '_since')
  let since: Date | undefined
  if (sinceText !== undefined) {
    // An unencoded '+' of a time zone offset arrives as a space.
    const text = sinceText.trim().replace(' ', '+')
    if (!/T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
      throw invalid(`_since '${sinceText.slice(0, 64)}' must be a FHIR instant with a time zone, e.g. 2024-01-31T12:00:00Z`, { expression: ['_since'] })
    }
    since = parseDateRange(text, '_since').start
  }
  return { types: types && [...new Set(types)], since, typeFilters: typeFilters(values.get('_typeFilter') ?? [], types) }
}

/** `Type?query` entries; several for one type are OR-ed (Bulk Data 2.0). */
function typeFilters(entries: readonly string[], types: readonly string[] | undefined) {
  const filters = new Map<string, (readonly [string, string])[][]>()
  // A comma separates filters only where the next filter's `Type?` starts: commas inside a query
  // are OR values of a search parameter (status=active,completed).
  const all = entries.flatMap((e) => e.split(/,(?=[A-Z][A-Za-z]+\?)/)).filter((e) => e.trim() !== '')
  for (const entry of all) {
    const at = entry.indexOf('?')
    const type = entry.slice(0, at)
    if (at < 1 || !isResourceType(type)) {
      throw invalid(`_typeFilter '${entry.slice(0, 100)}' must be [ResourceType]?[search parameters], e.g. Observation?category=vital-signs`, { expression: ['_typeFilter'] })
    }
    if (types && !types.includes(type)) {
      throw invalid(`_typeFilter names ${type}, which is not in _type (${types.join(',')}); add it to _type or drop the filter`, { expression: ['_typeFilter'] })
    }
    const params = [...new URLSearchParams(entry.slice(at + 1))]
    if (!params.length) throw invalid(`_typeFilter '${entry.slice(0, 100)}' has no search parameters after '?'`, { expression: ['_typeFilter'] })
    for (const [name] of params) {
      if (['_count', '_cursor', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_contained'].includes(name)) {
        throw invalid(`_typeFilter '${entry.slice(0, 100)}' uses ${name}, which does not filter resources; use search parameters only`, { expression: ['_typeFilter'] })
      }
    }
    filters.set(type, [...(filters.get(type) ?? []), params])
  }
  return filters
}

/** Parameter name → every value given (query repeats and Parameters entries alike). */
function collect(query: Raw, body: unknown): Map<string, string[]> {
  const values = new Map<string, string[]>()
  const add = (name: string, value: string) => values.set(name, [...(values.get(name) ?? []), value])
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || name === '_format' || name === '_pretty') continue
    for (const v of Array.isArray(value) ? value : [value]) add(name, v)
  }
  if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
    const parameters = body as Partial<Parameters>
    if (parameters.resourceType !== 'Parameters') throw invalid('A POST $export body must be a Parameters resource (or empty, with the parameters in the URL)', { expression: ['resourceType'] })
    for (const p of parameters.parameter ?? []) {
      const value = p.valueString ?? p.valueCode ?? p.valueInstant ?? p.valueDateTime ?? p.valueUri ?? p.valueUrl
      if (!p.name || typeof value !== 'string') throw invalid(`$export parameter '${String(p.name)}' needs a string, code, instant or uri value`, { expression: [`Parameters.parameter`] })
      add(p.name, value)
    }
  }
  return values
}

function single(values: Map<string, string[]>, name: string): string | undefined {
  const v = values.get(name)
  if (v && v.length > 1) throw invalid(`${name} may be given only once`, { expression: [name] })
  return v?.[0]
}

function list(values: Map<string, string[]>, name: string): string[] | undefined {
  const v = values.get(name)
  if (!v) return undefined
  const items = v.flatMap((s) => s.split(',')).map((s) => s.trim())
  if (items.some((s) => s === '')) throw invalid(`${name} has an empty entry: list resource types separated by commas`, { expression: [name] })
  return items
}

/** `Prefer: respond-async` is what makes a kick-off asynchronous; without it the request is refused. */
export function requireRespondAsync(headers: Readonly<Record<string, string | undefined>> | undefined): void {
  const prefer = headers?.prefer ?? ''
  if (!prefer.split(/[,;]/).some((p) => p.trim().toLowerCase() === 'respond-async')) {
    throw new FhirError('invalid', '$export runs asynchronously: send the header Prefer: respond-async', { expression: ['Prefer'] })
  }
}
