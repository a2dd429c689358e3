import { sql } from 'kysely'
import { parseReferenceString } from '../../indexing/reference-target.js'
import { isResourceType } from '../../validation/index.js'
import { splitUnescaped, unescapeValue } from '../escapes.js'
import type { ReferenceValue } from '../types.js'
import { badValue, type ParamType } from './param-type.js'
import { parseToken, tokenWhere } from './token.js'

/**
 * reference (https://hl7.org/fhir/R4/search.html#reference): `id` (any target type), `Type/id`, an
 * absolute URL (local when under this tenant's base, else matched as the full URL), a canonical URL
 * (`|version` ignored); `:[type]` (`subject:Patient=123`); `:identifier` (Reference.identifier, token
 * syntax). A version (`/_history/2`) is ignored: references match the resource.
 */
export const referenceParam: ParamType<ReferenceValue> = {
  table: 'search_reference',
  modifiers: ['identifier'],
  parse(raw, ctx) {
    if (ctx.modifier === 'identifier') {
      return { kind: 'reference-identifier', identifier: parseToken(splitUnescaped(raw, '|').map(unescapeValue), raw, ctx) }
    }
    const text = unescapeValue(raw).replace(/\/_history\/[^/]*$/, '')
    const typed = ctx.modifier
    if (typed) {
      const parsed = parseReferenceString(text)
      if (parsed.isRelative && parsed.type !== typed) throw badValue(ctx, raw, `a ${typed} id or ${typed}/id`)
      const id = parsed.isRelative ? parsed.id! : text
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw badValue(ctx, raw, `a ${typed} id`)
      return { kind: 'reference', type: typed, id, isLocal: true }
    }
    if (text.includes(':')) {
      if (ctx.localBase && text.startsWith(ctx.localBase)) {
        const local = parseReferenceString(text.slice(ctx.localBase.length))
        if (local.isRelative && local.type) return { kind: 'reference', type: local.type, id: local.id!, isLocal: true }
      }
      return { kind: 'reference', id: text.split('|')[0]!, isLocal: false }
    }
    const parsed = parseReferenceString(text)
    if (parsed.isRelative && parsed.type && isResourceType(parsed.type)) return { kind: 'reference', type: parsed.type, id: parsed.id!, isLocal: true }
    if (text === '' || text.includes('/')) throw badValue(ctx, raw, 'a reference (id, Type/id or an absolute URL)')
    return { kind: 'reference', id: text, isLocal: true }
  },
  where(x, v) {
    if (v.kind === 'reference-identifier') return tokenWhere(x, v.identifier)
    const refId = sql`${sql.ref(`${x}.ref_id`)} = ${v.id}`
    if (!v.isLocal) return sql`(${refId} AND ${sql.ref(`${x}.ref_type`)} IS NULL)`
    if (v.type) return sql`(${refId} AND ${sql.ref(`${x}.ref_type`)} = ${v.type})`
    return refId
  },
}

/** Which resource types a `:modifier` on a reference parameter may name. */
export function isTypeModifier(modifier: string): boolean {
  return isResourceType(modifier)
}
