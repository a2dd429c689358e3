/**
 * `new Date(ms).toISOString()` for the instants of index rows, three times faster (~150 vs ~450 ns
 * in Node 20): every date row of every write formats its low and high, and the Date builtin was
 * ~6% of a create's index-row extraction. Years 1000-9999 only (all the four-digit years FHIR
 * writes that a Date formats with four digits); anything else goes to the builtin.
 */
const FIRST = Date.UTC(1000, 0, 1)
const LAST = Date.UTC(10000, 0, 1)
const DAY = 86_400_000

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`)

export function isoInstant(ms: number): string {
  if (!(ms >= FIRST && ms < LAST) || !Number.isInteger(ms)) return new Date(ms).toISOString()
  const days = Math.floor(ms / DAY)
  let rest = ms - days * DAY
  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible low-level date algorithms").
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  return `${year}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${three(rest - seconds * 1000)}Z`
}
