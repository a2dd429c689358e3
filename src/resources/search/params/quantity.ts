import { sql } from 'kysely'
import { splitUnescaped, unescapeValue } from '../escapes.js'
import type { ParamValue } from '../types.js'
import { numberCondition, parseNumber } from './number.js'
import { badValue, type ParamType } from './param-type.js'

type QuantityValue = Extract<ParamValue, { kind: 'quantity' }>

/**
 * quantity (https://hl7.org/fhir/R4/search.html#quantity): `[prefix]number`, `number|system|code`,
 * `number||unit` (matches the code or the human unit). Number semantics as for number parameters.
 * Units compare as written (no UCUM conversion).
 */
export const quantityParam: ParamType<QuantityValue> = {
  table: 'search_quantity',
  modifiers: [],
  parse(raw, ctx) {
    const parts = splitUnescaped(raw, '|').map(unescapeValue)
    if (parts.length !== 1 && parts.length !== 3) throw badValue(ctx, raw, 'a quantity (number, number|system|code or number||unit)')
    const { kind: _kind, ...number } = parseNumber(parts[0]!, ctx)
    const [, system, code] = parts
    if (parts.length === 1 || !code) return { kind: 'quantity', ...number }
    if (!system) return { kind: 'quantity', ...number, unit: code }
    return { kind: 'quantity', ...number, system, code }
  },
  where(x, v) {
    const conditions = [numberCondition(x, v)]
    if (v.unit !== undefined) conditions.push(sql`(${sql.ref(`${x}.code`)} = ${v.unit} OR ${sql.ref(`${x}.unit`)} = ${v.unit})`)
    if (v.system !== undefined) conditions.push(sql`${sql.ref(`${x}.system`)} = ${v.system} AND ${sql.ref(`${x}.code`)} = ${v.code}`)
    return sql`(${sql.join(conditions, sql` AND `)})`
  },
}
