import type { TypedValue } from '@medplum/core'
import type { IndexRows } from './rows.js'

/**
 * number parameters (https://hl7.org/fhir/R4/search.html#number): a value is the point [v, v]; a Range
 * is [low, high] with open ends at ±Infinity. The implicit precision belongs to the SEARCH value
 * (`100` searches [99.5, 100.5)), so stored values are exact.
 *
 * No search_sort row: `_sort` reads min(low) / max(high) of these rows at query time (search/compile.ts).
 * `_options` stays because extract.ts passes `{ sortable }` to every indexer.
 */
export function indexNumberValue(rows: IndexRows, param: string, ord: number, typed: TypedValue, _options?: { sortable: boolean }) {
  const r = numericRange(typed)
  if (r) rows.addNumber(param, ord, r[0], r[1])
}

/** [low, high] as decimal text, for numbers, Quantity-like values and Ranges. */
export function numericRange({ value }: TypedValue): [string, string] | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return [String(value), String(value)]
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as { value?: unknown; comparator?: unknown; low?: { value?: unknown }; high?: { value?: unknown } }
  if (typeof v.value === 'number' && Number.isFinite(v.value)) {
    const text = String(v.value)
    if (v.comparator === '<' || v.comparator === '<=') return ['-Infinity', text]
    if (v.comparator === '>' || v.comparator === '>=') return [text, 'Infinity']
    return [text, text]
  }
  if (v.low !== undefined || v.high !== undefined) {
    const low = typeof v.low?.value === 'number' ? String(v.low.value) : '-Infinity'
    const high = typeof v.high?.value === 'number' ? String(v.high.value) : 'Infinity'
    if (low === '-Infinity' && high === 'Infinity') return undefined
    return [low, high]
  }
  return undefined
}
