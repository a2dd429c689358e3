import type { TypedValue } from '@medplum/core'
import type { IndexRows } from './rows.js'

/**
 * Location `near` (https://hl7.org/fhir/R4/location.html#positional): Location.position as ONE
 * search_number row under the parameter's code, `low` = latitude and `high` = longitude (decimal
 * degrees, WGS84). One row keeps the point together without a join on `ord`, and the index
 * (key of tenant, type and param; low, high) serves the bounding box: a range on latitude, longitude checked
 * in the index. No other parameter reads these rows (search/params/near.ts).
 */
export function indexNearValue(rows: IndexRows, param: string, ord: number, typed: TypedValue) {
  const v = typed.value as { latitude?: unknown; longitude?: unknown } | undefined
  if (typeof v !== 'object' || v === null) return
  const { latitude, longitude } = v
  if (typeof latitude !== 'number' || typeof longitude !== 'number') return
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return
  rows.addNumber(param, ord, String(latitude), String(longitude))
}
