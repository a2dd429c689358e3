import { sql } from 'kysely'
import { splitUnescaped, unescapeValue } from '../escapes.js'
import { CANONICAL_SYSTEM, toCanonical, ucumCanonical, UCUM_SYSTEM } from '../../indexing/ucum.js'
import type { ParamValue } from '../types.js'
import { numberCondition, parseNumber } from './number.js'
import { badValue, type ParamType } from './param-type.js'

type QuantityValue = Extract<ParamValue, { kind: 'quantity' }>

/**
 * quantity (https://hl7.org/fhir/R4/search.html#quantity): `[prefix]number`, `number|system|code`,
 * `number||unit` (matches the code or the human unit). Number semantics as for number parameters.
 * A UCUM `number|http://unitsofmeasure.org|code` whose code ucum.ts knows also matches in canonical
 * units: the value and its implicit precision range convert to the canonical unit and compare with
 * the canonical rows (indexing/quantity.ts) and with the UCUM rows written in the canonical unit, so
 * `1000|…|mg` finds a stored `0.001 kg` (its canonical row) and `1 g` (its own row). Other values
 * compare as written, and never see the canonical rows.
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
    const system = sql.ref(`${x}.system`)
    const code = sql.ref(`${x}.code`)
    const conditions = [numberCondition(x, v)]
    if (v.system === undefined) conditions.push(sql`${system} IS DISTINCT FROM ${CANONICAL_SYSTEM}`)
    if (v.unit !== undefined) conditions.push(sql`(${code} = ${v.unit} OR ${sql.ref(`${x}.unit`)} = ${v.unit})`)
    if (v.system !== undefined) conditions.push(sql`${system} = ${v.system} AND ${code} = ${v.code}`)
    const asWritten = sql`(${sql.join(conditions, sql` AND `)})`
    const canonical = v.system === UCUM_SYSTEM && v.code !== undefined ? ucumCanonical(v.code) : undefined
    if (!canonical) return asWritten
    const converted = { prefix: v.prefix, value: toCanonical(canonical, v.value), low: toCanonical(canonical, v.low), high: toCanonical(canonical, v.high) }
    // A UCUM row already in the canonical unit has no canonical twin (indexing/quantity.ts); older
    // databases still hold one, which only repeats the match.
    return sql`(${asWritten} OR (${system} IN (${CANONICAL_SYSTEM}, ${UCUM_SYSTEM}) AND ${code} = ${canonical.unit} AND ${numberCondition(x, converted)}))`
  },
}
