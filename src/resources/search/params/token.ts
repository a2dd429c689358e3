import { sql, type RawBuilder } from 'kysely'
import { clip, normalizeText } from '../../indexing/normalize.js'
import { splitUnescaped, unescapeValue } from '../escapes.js'
import type { CodeSetExpansion, CodeSetValue, TokenValue } from '../types.js'
import { badValue, type ParamType } from './param-type.js'

/**
 * token (https://hl7.org/fhir/R4/search.html#token): `code`, `system|code`, `|code` (no system),
 * `system|` (any code of the system); `:text` (display / CodeableConcept.text, by word prefix, words
 * split at anything not a letter or digit, case- and accent-insensitive);
 * `:of-type=typeSystem|typeCode|value` for identifiers; `:in` / `:not-in` a ValueSet (id or canonical
 * url) and `:below` / `:above` a code's CodeSystem hierarchy, both expanded from the tenant's
 * terminology by code-sets.ts. Codes compare case-sensitively.
 */
export const tokenParam: ParamType<TokenValue | CodeSetValue> = {
  table: 'search_token',
  modifiers: ['text', 'of-type', 'in', 'not-in', 'below', 'above'],
  parse(raw, ctx) {
    if (ctx.modifier === 'text') return { kind: 'token', text: clip(normalizeText(unescapeValue(raw))) }
    if (ctx.modifier === 'in' || ctx.modifier === 'not-in') return { kind: 'code-set', source: { valueSet: unescapeValue(raw).split('|')[0]! } }
    const parts = splitUnescaped(raw, '|').map(unescapeValue)
    if (ctx.modifier === 'below' || ctx.modifier === 'above') {
      const [system, code] = parts
      if (parts.length !== 2 || !system || !code) throw badValue(ctx, raw, `a system|code (:${ctx.modifier} walks that CodeSystem's hierarchy)`)
      return { kind: 'code-set', source: { system, code, direction: ctx.modifier } }
    }
    if (ctx.modifier === 'of-type') {
      const [typeSystem, typeCode, value] = parts
      if (parts.length !== 3 || !typeSystem || !typeCode || !value) throw badValue(ctx, raw, 'an of-type value (type-system|type-code|identifier-value)')
      return { kind: 'token', typeSystem, typeCode, code: clip(value) }
    }
    return parseToken(parts, raw, ctx)
  },
  where: (x, v) => (v.kind === 'code-set' ? codeSetWhere(x, v) : tokenWhere(x, v)),
}

/** A token row whose (system, code) is in the expansion: per system one `code = ANY(...)` index range. */
function codeSetWhere(x: string, v: CodeSetValue): RawBuilder<unknown> {
  const col = (c: string) => sql.ref(`${x}.${c}`)
  // code-sets.ts expands every value before compiling; an unexpanded one is a bug, not bad input.
  const expansion: CodeSetExpansion | undefined = v.expansion
  if (!expansion) throw new Error('token :in/:below value compiled before its expansion')
  const terms: RawBuilder<unknown>[] = []
  for (const [system, codes] of expansion.codes) {
    if (!codes.length) continue
    const systemIs = system === '' ? sql`${col('system')} IS NULL` : sql`${col('system')} = ${system}`
    terms.push(sql`(${col('code')} = ANY(${[...codes]}::text[]) AND ${systemIs})`)
  }
  for (const { system, except } of expansion.systems) {
    const but = except.length ? sql` AND ${col('code')} <> ALL(${[...except]}::text[])` : sql``
    terms.push(sql`(${col('system')} = ${system} AND ${col('code')} IS NOT NULL${but})`)
  }
  return terms.length ? sql`(${sql.join(terms, sql` OR `)})` : sql`FALSE`
}

export function parseToken(parts: string[], raw: string, ctx: { name: string }): TokenValue {
  if (parts.length === 1) return { kind: 'token', code: clip(parts[0]!) }
  const [system, code] = parts
  if (parts.length !== 2 || (!system && !code)) throw badValue(ctx, raw, 'a token (code, system|code, |code or system|)')
  if (!system) return { kind: 'token', system: null, code: clip(code!) }
  if (!code) return { kind: 'token', system: clip(system) }
  return { kind: 'token', system: clip(system), code: clip(code) }
}

/** `text` as a literal inside a PostgreSQL regular expression: every character but letters, digits and spaces escaped. */
const regexLiteral = (text: string) => text.replace(/[^\p{L}\p{N} ]/gu, (c) => `\\${c}`)

export function tokenWhere(x: string, v: TokenValue): RawBuilder<unknown> {
  const col = (c: string) => sql.ref(`${x}.${c}`)
  if (v.text !== undefined) {
    // A word starts the text or follows any character that is not a letter or digit, as _text splits
    // words (full-text.ts): `total` finds "Bilirubin.total [Mass/volume]", `volume` finds it too.
    return sql`${col('display')} ~ ${`(^|[^[:alnum:]])${regexLiteral(v.text)}`}`
  }
  const conditions: RawBuilder<unknown>[] = []
  if (v.code !== undefined) conditions.push(sql`${col('code')} = ${v.code}`)
  if (v.system === null) conditions.push(sql`${col('system')} IS NULL`)
  else if (v.system !== undefined) conditions.push(sql`${col('system')} = ${v.system}`)
  if (v.typeSystem !== undefined) conditions.push(sql`${col('type_system')} = ${v.typeSystem} AND ${col('type_code')} = ${v.typeCode}`)
  return sql`(${sql.join(conditions, sql` AND `)})`
}
