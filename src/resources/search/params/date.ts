import { sql, type RawBuilder } from 'kysely'
import { parseDateRange } from '../../dates.js'
import type { ParamValue } from '../types.js'
import { splitPrefix, type ParamType } from './param-type.js'

type DateValue = Extract<ParamValue, { kind: 'date' }>

/** `ap` widens the search range by this share of the distance between now and the value. */
const APPROXIMATE_SHARE = 0.1

/**
 * date (https://hl7.org/fhir/R4/search.html#date). Both the search value and every stored value are
 * ranges — [start, end) from the value's precision (`2024` is all of 2024; no time zone → UTC) and
 * stored [low, high) — and each prefix is the spec's sentence about those ranges:
 * eq: the search range contains the target; ne: it does not; gt/lt: the range above/below the
 * search value overlaps the target; ge/le: gt/lt or eq; sa/eb: the target starts after / ends before
 * the search range; ap: the target overlaps the search range widened by 10% of its distance to now.
 */
export const dateParam: ParamType<DateValue> = {
  table: 'search_date',
  modifiers: [],
  parse(raw, ctx) {
    const [prefix, text] = splitPrefix(raw)
    const { start, end } = parseDateRange(text, ctx.name)
    if (prefix !== 'ap') return { kind: 'date', prefix, start, end }
    const gap = Math.abs(ctx.now.getTime() - start.getTime()) * APPROXIMATE_SHARE
    return { kind: 'date', prefix, start: new Date(start.getTime() - gap), end: new Date(end.getTime() + gap) }
  },
  where(x, v) {
    return dateCondition(v, { low: sql.ref(`${x}.low`), high: (op, t) => sql`${sql.ref(`${x}.high`)} ${sql.raw(op)} ${t}` })
  },
}

/** The columns a date condition reads: `low`, and comparisons on the exclusive `high`. */
export interface DateColumns {
  readonly low: RawBuilder<unknown> | ReturnType<typeof sql.ref>
  readonly high: (op: '>' | '<=', value: Date) => RawBuilder<unknown>
}

export function dateCondition(v: DateValue, c: DateColumns): RawBuilder<unknown> {
  const { start: s, end: e } = v
  const contained = sql`(${c.low} >= ${s} AND ${c.high('<=', e)})`
  // The first conjunct of ge, le and eq is implied by the rest (a stored range is never empty:
  // low < high, with ±infinity for open ends, and Period.start <= Period.end by invariant per-1), so
  // it changes no result; it is there as a range the planner can scan: `high > s` on
  // search_date_high (0008_search_gaps.sql), `low < e` / `low >= s` on search_date_lookup. Without it
  // the OR leaves only the key of (tenant, type, param) as the index condition (test/resources/search/date-range-plan.int.test.ts).
  // The alternatives are a CASE, not an OR, for the planner's estimate: it multiplies the
  // selectivity of every conjunct, so an OR beside its own implied bound counted that bound twice
  // (`ge` in the last quarter of the data: 1,216 rows estimated, 9,692 found, and a plan that
  // fetched every resource before testing its code); a CASE is estimated at one half.
  // Same results: no column is NULL.
  const either = (a: RawBuilder<unknown>, b: RawBuilder<unknown>) => sql`(CASE WHEN ${a} THEN true ELSE ${b} END)`
  switch (v.prefix) {
    case 'eq': return sql`(${c.low} >= ${s} AND ${c.low} < ${e} AND ${either(c.high('<=', e), sql`false`)})`
    case 'ne': return sql`NOT ${contained}`
    case 'gt': return c.high('>', e)
    case 'lt': return sql`${c.low} < ${s}`
    case 'ge': return sql`(${c.high('>', s)} AND ${either(c.high('>', e), contained)})`
    case 'le': return sql`(${c.low} < ${e} AND ${either(sql`${c.low} < ${s}`, contained)})`
    case 'sa': return sql`${c.low} >= ${e}`
    case 'eb': return c.high('<=', s)
    case 'ap': return sql`(${c.low} < ${e} AND ${c.high('>', s)})`
  }
}

/**
 * `_lastUpdated` (resource.last_updated, an instant with millisecond precision): the target is
 * [t, t + 1 ms), so `high > X` is `t >= X` and `high <= X` is `t < X` — conditions on the indexed column.
 */
export function lastUpdatedCondition(v: DateValue, column: string): RawBuilder<unknown> {
  const t = sql.ref(column)
  return dateCondition(v, { low: t, high: (op, value) => (op === '>' ? sql`${t} >= ${value}` : sql`${t} < ${value}`) })
}
