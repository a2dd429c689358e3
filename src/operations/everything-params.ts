import type { Parameters } from '@medplum/fhirtypes'
import { invalid } from '../errors.js'
import { isResourceType, MAX_PAGE_SIZE, parseDateRange } from '../resources/index.js'

/** Page size of `$everything` when the client gives no `_count` (a record is read in large pages). */
export const EVERYTHING_PAGE_SIZE = 100

/** `$everything`'s input (https://hl7.org/fhir/R4/patient-operation-everything.html#inputs), parsed. */
export interface EverythingParams {
  readonly start?: Date
  readonly end?: Date
  readonly since?: Date
  readonly types?: readonly string[]
  readonly count: number
  readonly cursor?: string
  /** What the paging links repeat, in a fixed order. */
  readonly echo: readonly (readonly [string, string])[]
}

const NAMES = ['start', 'end', '_since', '_type', '_count', '_cursor'] as const
type Name = (typeof NAMES)[number]

/**
 * The query (GET) and a Parameters body (POST) together. Each value is checked: a bad date, type
 * or count is a 400 naming the parameter. Unknown parameters are ignored, as the spec lets servers do.
 */
export function parseEverythingParams(query: Readonly<Record<string, string | string[] | undefined>>, body: unknown): EverythingParams {
  const raw = new Map<Name, string>()
  for (const name of NAMES) {
    const v = query[name]
    if (v === undefined) continue
    if (Array.isArray(v) && name !== '_type') throw invalid(`${name} may be given only once`, { expression: [name] })
    raw.set(name, Array.isArray(v) ? v.join(',') : v)
  }
  for (const p of (body as Partial<Parameters> | undefined)?.resourceType === 'Parameters' ? ((body as Parameters).parameter ?? []) : []) {
    const name = p.name as Name
    if (!NAMES.includes(name)) continue
    const value = p.valueDate ?? p.valueDateTime ?? p.valueInstant ?? p.valueString ?? p.valueCode ?? (p.valueInteger !== undefined ? String(p.valueInteger) : undefined)
    if (value === undefined) throw invalid(`Parameter ${name} needs a value`, { expression: [name] })
    raw.set(name, name === '_type' && raw.has('_type') ? `${raw.get('_type')},${value}` : value)
  }
  const start = raw.has('start') ? parseDateRange(raw.get('start')!, 'start').start : undefined
  const end = raw.has('end') ? parseDateRange(raw.get('end')!, 'end').end : undefined
  if (start && end && start >= end) throw invalid('start must be before end', { expression: ['start', 'end'] })
  const since = raw.has('_since') ? parseDateRange(raw.get('_since')!, '_since').start : undefined
  const types = raw.has('_type') ? typesOf(raw.get('_type')!) : undefined
  const count = countOf(raw.get('_count'))
  const echo: [string, string][] = []
  for (const name of ['start', 'end', '_since', '_type'] as const) if (raw.has(name)) echo.push([name, raw.get(name)!])
  echo.push(['_count', String(count)])
  return { start, end, since, types, count, cursor: raw.get('_cursor'), echo }
}

function typesOf(text: string): string[] {
  const types = [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))]
  if (!types.length) throw invalid('_type needs at least one resource type', { expression: ['_type'] })
  for (const type of types) if (!isResourceType(type)) throw invalid(`_type: '${type.slice(0, 64)}' is not a FHIR R4 resource type`, { expression: ['_type'] })
  return types
}

function countOf(text: string | undefined): number {
  if (text === undefined) return EVERYTHING_PAGE_SIZE
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw invalid(`_count must be a whole number from 1 (got '${text.slice(0, 40)}')`, { expression: ['_count'] })
  return Math.min(Number(text), MAX_PAGE_SIZE)
}
