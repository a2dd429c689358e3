import type { TypedValue } from '@medplum/core'
import { numericRange } from './number.js'
import type { IndexRows } from './rows.js'
import { CANONICAL_SYSTEM, toCanonical, ucumCanonical, UCUM_SYSTEM } from './ucum.js'

type QuantityLike = { unit?: string; system?: string; code?: string; currency?: string }

/**
 * quantity parameters (https://hl7.org/fhir/R4/search.html#quantity): Quantity and its profiles
 * (Age, Duration, Distance, Count, SimpleQuantity), Money (code = currency) and Range (units of its
 * low or high). A comparator makes an open range (`<5` is (-inf, 5]). Units are stored as written, and
 * a UCUM quantity whose code ucum.ts knows gets a second row in canonical units (system
 * CANONICAL_SYSTEM), so `1 kg` matches a search for `1000|http://unitsofmeasure.org|g`, unless it is
 * already written in the canonical unit (`1 g`), which its own row then serves.
 *
 * No search_sort row: `_sort` reads min(low) / max(high) of the rows as written (system other than
 * CANONICAL_SYSTEM) at query time (search/compile.ts). `_options` stays because extract.ts passes
 * `{ sortable }` to every indexer.
 */
export function indexQuantityValue(rows: IndexRows, param: string, ord: number, typed: TypedValue, _options?: { sortable: boolean }) {
  const r = numericRange(typed)
  if (!r) return
  const v = typed.value as QuantityLike & { low?: QuantityLike; high?: QuantityLike }
  const units: QuantityLike = v.low ?? v.high ?? v
  const isMoney = typed.type === 'Money' || typeof units.currency === 'string'
  const code = text(isMoney ? units.currency : units.code)
  rows.addQuantity(param, ord, {
    low: r[0],
    high: r[1],
    system: isMoney ? 'urn:iso:std:iso:4217' : text(units.system),
    code,
    unit: text(units.unit),
  })
  const canonical = !isMoney && units.system === UCUM_SYSTEM && code ? ucumCanonical(code) : undefined
  if (canonical) {
    const low = toCanonical(canonical, r[0])
    const high = toCanonical(canonical, r[1])
    // Already canonical (`g`, `m`, `K`...): the row as written is the canonical row, and the
    // canonical match reads UCUM rows whose code is the canonical unit (search/params/quantity.ts).
    const isCanonical = code === canonical.unit && low === r[0] && high === r[1]
    if (!isCanonical) rows.addQuantity(param, ord, { low, high, system: CANONICAL_SYSTEM, code: canonical.unit, unit: null })
  }
}

/** A unit, system or currency as written; validation reads `[]` and `{}` there as absent, so they can arrive. */
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null)
