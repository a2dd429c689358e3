import type { TypedValue } from '@medplum/core'
import { parseDateRange } from '../dates.js'
import type { IndexRows } from './rows.js'
import { isoInstant } from './iso-instant.js'
import { dateSortKey } from './sort-key.js'

/**
 * date parameters (https://hl7.org/fhir/R4/search.html#date): every value is stored as the range
 * [low, high) its precision covers — `2024` is all of 2024, an instant is one millisecond. Period →
 * [start, end) with open ends at -infinity / infinity; Timing → one range over its outer limits
 * (earliest to latest event and its bounds Period): the spec says "the specified scheduling details
 * are ignored and only the outer limits matter". Every value is thus one row.
 * `sortable` is false for a parameter with at most one row per resource (single-valued-date.ts):
 * `_sort` reads that row itself, so only repeating date parameters get a search_sort row.
 */
export function indexDateValue(rows: IndexRows, param: string, ord: number, typed: TypedValue, options: { sortable: boolean }) {
  for (const [low, high] of rangesOf(typed)) {
    rows.addDate(param, ord, pgTimestamp(low), pgTimestamp(high))
    if (options.sortable) rows.addSortKey(param, dateSortKey(low), dateSortKey(high))
  }
}

function rangesOf({ type, value }: TypedValue): [number, number][] {
  if (typeof value === 'string') {
    const r = range(value)
    return r ? [r] : []
  }
  if (typeof value !== 'object' || value === null) return []
  const v = value as Record<string, unknown>
  if (type === 'Period' || (type !== 'Timing' && ('start' in v || 'end' in v))) return periodRange(v)
  if (type === 'Timing') {
    const events = Array.isArray(v.event) ? (v.event as unknown[]) : []
    const bounds = (v.repeat as { boundsPeriod?: Record<string, unknown> } | undefined)?.boundsPeriod
    const ranges = [
      ...events.flatMap((e) => (typeof e === 'string' ? [range(e)].filter((r): r is [number, number] => !!r) : [])),
      ...(bounds ? periodRange(bounds) : []),
    ]
    if (!ranges.length) return []
    return [[Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))]]
  }
  return []
}

function periodRange(period: Record<string, unknown>): [number, number][] {
  const start = typeof period.start === 'string' ? range(period.start) : undefined
  const end = typeof period.end === 'string' ? range(period.end) : undefined
  if (!start && !end) return []
  return [[start ? start[0] : -Infinity, end ? end[1] : Infinity]]
}

function range(text: string): [number, number] | undefined {
  try {
    const r = parseDateRange(text, 'date')
    return [r.start.getTime(), r.end.getTime()]
  } catch {
    return undefined
  }
}

function pgTimestamp(ms: number): string {
  if (ms === -Infinity) return '-infinity'
  if (ms === Infinity) return 'infinity'
  return isoInstant(ms)
}
