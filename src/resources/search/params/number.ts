import { sql, type RawBuilder } from 'kysely'
import type { NumberValue } from '../types.js'
import { isDecimal, precisionRange } from './decimal.js'
import { badValue, splitPrefix, type ParamType, type ValueContext } from './param-type.js'

/**
 * number (https://hl7.org/fhir/R4/search.html#number). Stored values are [low, high] (a point, or a
 * Range). `eq`/`ne` use the implicit precision of the search value (`100` → [99.5, 100.5)); the
 * other prefixes compare with the value as exact, as the spec says; `ap` is ±10%.
 */
export const numberParam: ParamType<NumberValue> = {
  table: 'search_number',
  modifiers: [],
  parse: parseNumber,
  where: (x, v) => numberCondition(x, v),
}

export function parseNumber(raw: string, ctx: ValueContext): NumberValue {
  const [prefix, text] = splitPrefix(raw)
  if (!isDecimal(text)) throw badValue(ctx, raw, 'a number, optionally prefixed (eq, ne, gt, lt, ge, le, sa, eb, ap)')
  const [low, high] = precisionRange(text)
  return { kind: 'number', prefix, value: text, low, high }
}

export function numberCondition(x: string, v: Omit<NumberValue, 'kind'>): RawBuilder<unknown> {
  const low = sql.ref(`${x}.low`)
  const high = sql.ref(`${x}.high`)
  const value = sql`${v.value}::numeric`
  switch (v.prefix) {
    case 'eq': return sql`(${low} >= ${v.low}::numeric AND ${high} < ${v.high}::numeric)`
    case 'ne': return sql`NOT (${low} >= ${v.low}::numeric AND ${high} < ${v.high}::numeric)`
    case 'gt': return sql`${high} > ${value}`
    case 'lt': return sql`${low} < ${value}`
    case 'ge': return sql`${high} >= ${value}`
    case 'le': return sql`${low} <= ${value}`
    case 'sa': return sql`${low} > ${value}`
    case 'eb': return sql`${high} < ${value}`
    case 'ap': return sql`(${low} <= ${value} + abs(${value}) * 0.1 AND ${high} >= ${value} - abs(${value}) * 0.1)`
  }
}
