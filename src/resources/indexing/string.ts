import type { TypedValue } from '@medplum/core'
import { clip, normalizeText } from './normalize.js'
import type { IndexRows } from './rows.js'

/**
 * string parameters (https://hl7.org/fhir/R4/search.html#string): a row per string, and per part of
 * a HumanName (family, given, prefix, suffix, text) or Address (line, city, district, state,
 * postalCode, country, text), since `name=jo` matches any part.
 */
export function indexStringValue(rows: IndexRows, param: string, ord: number, value: TypedValue, options: { sortable: boolean }) {
  for (const text of stringsOf(value)) {
    const exact = clip(text)
    const normalized = clip(normalizeText(text))
    rows.addString(param, ord, normalized, exact)
    if (options.sortable) rows.addSortKey(param, normalized, normalized)
  }
}

const HUMAN_NAME_PARTS = ['text', 'family', 'given', 'prefix', 'suffix']
const ADDRESS_PARTS = ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country']

function stringsOf({ type, value }: TypedValue): string[] {
  if (typeof value === 'string') return value.trim() ? [value] : []
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)]
  if (typeof value !== 'object' || value === null) return []
  const parts = type === 'HumanName' ? HUMAN_NAME_PARTS : type === 'Address' ? ADDRESS_PARTS : undefined
  if (!parts) return []
  const out: string[] = []
  const record = value as Record<string, unknown>
  for (const part of parts) {
    const v = record[part]
    if (typeof v === 'string' && v.trim()) out.push(v)
    else if (Array.isArray(v)) for (const item of v) if (typeof item === 'string' && item.trim()) out.push(item)
  }
  return out
}
