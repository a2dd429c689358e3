import { invalid } from '../errors.js'

/**
 * A FHIR date, dateTime or instant as the half-open range its precision covers
 * (https://hl7.org/fhir/R4/search.html#date): `2024` → [2024-01-01, 2025-01-01).
 * Values without a time zone are read as UTC.
 */
export interface DateRange {
  start: Date
  end: Date
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/

export function parseDateRange(value: string, parameter: string): DateRange {
  const m = DATE_RE.exec(value)
  if (!m) throw badDate(value, parameter)
  const [, y, mo, d, h, mi, s, frac, tz] = m
  const year = Number(y)
  const month = mo ? Number(mo) - 1 : 0
  const day = d ? Number(d) : 1
  if (month > 11 || day < 1 || day > 31 || (h && Number(h) > 23) || (mi && Number(mi) > 59) || (s && Number(s) > 59)) {
    throw badDate(value, parameter)
  }
  const offsetMs = tz && tz !== 'Z' ? (tz.startsWith('-') ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000 : 0
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0
  const startUtc = Date.UTC(year, month, day, h ? Number(h) : 0, mi ? Number(mi) : 0, s ? Number(s) : 0, ms) - offsetMs
  const check = new Date(Date.UTC(year, month, day))
  if (check.getUTCMonth() !== month) throw badDate(value, parameter)
  let endUtc: number
  if (!mo) endUtc = Date.UTC(year + 1, 0, 1)
  else if (!d) endUtc = Date.UTC(year, month + 1, 1)
  else if (!h) endUtc = Date.UTC(year, month, day + 1)
  else if (!s) endUtc = startUtc + 60_000
  else if (!frac) endUtc = startUtc + 1000
  else endUtc = startUtc + 1
  return { start: new Date(startUtc), end: new Date(endUtc) }
}

function badDate(value: string, parameter: string) {
  return invalid(
    `Parameter ${parameter}: '${value}' is not a FHIR date (use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss][Z|+hh:mm])`,
    { expression: [parameter] },
  )
}
