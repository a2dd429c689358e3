import { invalid } from '../../errors.js'
import type { SearchParamDef, TypeSearchParams } from '../indexing/registry.js'
import { splitUnescaped } from './escapes.js'
import { PARAM_TYPES, type ValueContext } from './params/index.js'
import { isTypeModifier } from './params/reference.js'
import type { ParamValue, SearchClause } from './types.js'

/** What parsing a value needs besides the parameter. */
export interface ValueOptions {
  readonly localBase?: string
  readonly now: Date
}

/**
 * One `code[:modifier]=v1,v2` parameter of a type → a clause (https://hl7.org/fhir/R4/search.html):
 * 'unknown' when the type has no such (searchable) parameter, 'empty' when there is no value.
 * A malformed value or a modifier the parameter does not take is `invalid` naming the parameter.
 */
export function parseClause(params: TypeSearchParams, name: string, raw: string, options: ValueOptions): SearchClause | 'unknown' | 'empty' {
  const colon = name.indexOf(':')
  const code = colon < 0 ? name : name.slice(0, colon)
  const modifier = colon < 0 ? undefined : name.slice(colon + 1)
  const def = params.byCode.get(code)
  if (!def || (!def.evaluate && !def.column)) return 'unknown'
  if (raw === '') return 'empty'
  if (modifier === 'missing') {
    if (raw !== 'true' && raw !== 'false') throw invalid(`Parameter ${name}: :missing takes true or false (got '${raw.slice(0, 40)}')`, { expression: [name] })
    if (def.column) throw invalid(`Parameter ${name}: every resource has ${code}; :missing does not apply`, { expression: [name] })
    return { kind: 'param', name, def, modifier, missing: raw === 'true', values: [] }
  }
  checkModifier(def, name, modifier)
  const ctx: ValueContext = { name, modifier: modifier === 'not' ? undefined : modifier, localBase: options.localBase, now: options.now }
  const values = splitUnescaped(raw, ',')
    .filter((v) => v !== '')
    .map((v) => parseValue(def, v, ctx))
  if (!values.length) return 'empty'
  return { kind: 'param', name, def, modifier, values }
}

function checkModifier(def: SearchParamDef, name: string, modifier: string | undefined) {
  if (modifier === undefined || modifier === 'not') {
    if (modifier === 'not' && def.type === 'composite') throw unsupportedModifier(name, modifier)
    return
  }
  const handler = PARAM_TYPES[def.type]
  const allowed = handler?.modifiers.includes(modifier) || (def.type === 'reference' && isTypeModifier(modifier) && (!def.targets?.length || def.targets.includes(modifier as never)))
  if (!allowed || def.column) throw unsupportedModifier(name, modifier)
}

function unsupportedModifier(name: string, modifier: string) {
  return invalid(`Parameter ${name}: the modifier :${modifier} is not supported for this parameter`, { expression: [name], messageId: 'MSG_PARAM_MODIFIER_INVALID' })
}

function parseValue(def: SearchParamDef, raw: string, ctx: ValueContext): ParamValue {
  if (def.column === 'id') return { kind: 'token', code: raw }
  if (def.type === 'composite') {
    const components = def.components ?? []
    const parts = splitUnescaped(raw, '$')
    if (parts.length !== components.length) {
      throw invalid(`Parameter ${ctx.name}: '${raw.slice(0, 100)}' needs ${components.length} parts separated by '$'`, { expression: [ctx.name] })
    }
    return {
      kind: 'composite',
      parts: parts.map((part, i) => PARAM_TYPES[components[i]!.type]!.parse(part, { ...ctx, modifier: undefined })),
    }
  }
  const handler = PARAM_TYPES[def.type]
  if (!handler) throw invalid(`Parameter ${ctx.name}: type ${def.type} is not searchable`, { expression: [ctx.name] })
  return handler.parse(raw, ctx)
}

