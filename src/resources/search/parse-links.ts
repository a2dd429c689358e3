import { FhirError, invalid } from '../../errors.js'
import { textWords } from '../indexing/full-text.js'
import type { SearchParamRegistry, TypeSearchParams } from '../indexing/registry.js'
import { isResourceType } from '../validation/index.js'
import { splitUnescaped, unescapeValue } from './escapes.js'
import { parseClause, type ValueOptions } from './parse-param.js'
import type { ChainFilter, HasFilter, SearchFilter } from './types.js'

/** Chains and `_has` nest at most this deep (each level is one more semi-join). */
const MAX_DEPTH = 4
/** A chain over untyped references (`Provenance?target.name=`) fans out to at most this many target types. */
const MAX_TARGETS = 32
/** Words per `_text` / `_content` value. */
const MAX_WORDS = 16
const ID = /^[A-Za-z0-9\-.]{1,64}$/

export interface LinkOptions extends ValueOptions {
  readonly registry: SearchParamRegistry
}

/**
 * One query parameter → a filter on `params.resourceType` ('' at system level): a plain parameter,
 * a chain (`subject:Patient.name`), `_has:Type:ref:param`, `_text`, `_content` or `_list`.
 * 'unknown' lets the caller ignore it (or refuse it under `handling=strict`); a chain or `_has`
 * whose inner parameter is unknown is always a 400, since dropping it would widen the results.
 */
export function parseFilter(options: LinkOptions, params: TypeSearchParams, name: string, raw: string, depth = 0): SearchFilter | 'unknown' | 'empty' {
  if (depth > MAX_DEPTH) throw invalid(`Parameter ${name}: chains and _has nest at most ${MAX_DEPTH} levels`, { expression: [name] })
  if (name.startsWith('_has:')) return parseHas(options, params, name, raw, depth)
  if (name === '_text' || name === '_content') return parseText(name, raw)
  if (name === '_list') return parseList(raw)
  const dot = name.indexOf('.')
  if (dot > 0) return parseChain(options, params, name, raw, depth)
  return parseClause(params, name, raw, options)
}

/** https://hl7.org/fhir/R4/search.html#chaining */
function parseChain(options: LinkOptions, params: TypeSearchParams, name: string, raw: string, depth: number): ChainFilter | 'unknown' | 'empty' {
  const dot = name.indexOf('.')
  const head = name.slice(0, dot)
  const rest = name.slice(dot + 1)
  const colon = head.indexOf(':')
  const code = colon < 0 ? head : head.slice(0, colon)
  const qualifier = colon < 0 ? undefined : head.slice(colon + 1)
  const ref = params.byCode.get(code)
  if (!ref || !ref.evaluate) return 'unknown'
  const fail = (why: string) => invalid(`Parameter ${name}: ${why}`, { expression: [name] })
  if (ref.type !== 'reference') throw fail(`${code} is a ${ref.type} parameter; only reference parameters can be chained`)
  if (rest.startsWith('_has')) throw fail('a chain cannot end in _has; use _has on the target type')
  const declared = (ref.targets ?? []).filter((t) => isResourceType(t))
  if (qualifier !== undefined && (!isResourceType(qualifier) || (declared.length > 0 && !declared.includes(qualifier)))) {
    throw fail(`${qualifier} is not a resource type ${code} can refer to${declared.length ? ` (${declared.join(', ')})` : ''}`)
  }
  const candidates = qualifier ? [qualifier] : declared
  if (!candidates.length) throw fail(`${code} does not declare its target types; qualify it, e.g. ${code}:Patient.${rest}`)
  const targets: { resourceType: string; filter: SearchFilter }[] = []
  for (const resourceType of candidates) {
    const inner = named(name, rest, () => parseFilter(options, options.registry.forType(resourceType), rest, raw, depth + 1))
    if (inner === 'empty') return 'empty'
    if (inner !== 'unknown') targets.push({ resourceType, filter: inner })
  }
  const restCode = rest.split(/[.:]/)[0]
  if (!targets.length) throw fail(`no target type of ${code} (${candidates.join(', ')}) has a search parameter '${restCode}'`)
  if (targets.length > MAX_TARGETS) throw fail(`${targets.length} target types have '${restCode}'; add a type qualifier, e.g. ${code}:${targets[0]!.resourceType}.${rest}`)
  return { kind: 'chain', name, ref, targets }
}

/** https://hl7.org/fhir/R4/search.html#has — `_has:Type:reference:parameter`, nested `_has:A:r:_has:B:s:p`. */
function parseHas(options: LinkOptions, params: TypeSearchParams, name: string, raw: string, depth: number): HasFilter | 'empty' {
  const [, type, refCode, ...restParts] = name.split(':')
  const rest = restParts.join(':')
  const fail = (why: string) => invalid(`Parameter ${name}: ${why}`, { expression: [name] })
  if (!type || !refCode || !rest) throw fail('reverse chaining is written _has:Type:reference:parameter=value')
  if (!isResourceType(type)) throw fail(`${type} is not a resource type`)
  const inner = options.registry.forType(type)
  const ref = inner.byCode.get(refCode)
  if (!ref || ref.type !== 'reference') throw fail(`${type} has no reference search parameter '${refCode}'`)
  const here = params.resourceType
  if (here && ref.targets?.length && !ref.targets.includes(here as never)) throw fail(`${type}:${refCode} does not refer to ${here} resources`)
  const filter = named(name, rest, () => parseFilter(options, inner, rest, raw, depth + 1))
  if (filter === 'empty') return 'empty'
  if (filter === 'unknown') throw fail(`${type} has no search parameter '${rest.split(/[.:]/)[0]}'`)
  return { kind: 'has', name, resourceType: type, ref, filter }
}

/** Runs the inner parse so that a 400 about the inner parameter names the whole one the client sent. */
function named<T>(name: string, rest: string, parse: () => T): T {
  try {
    return parse()
  } catch (e) {
    const prefix = `Parameter ${rest}:`
    if (e instanceof FhirError && e.kind === 'invalid' && e.message.startsWith(prefix)) {
      throw invalid(`Parameter ${name}:${e.message.slice(prefix.length)}`, { expression: [name] })
    }
    throw e
  }
}

/** `_text` / `_content`: comma-separated alternatives, each a list of words (see indexing/full-text.ts). */
function parseText(name: '_text' | '_content', raw: string): SearchFilter | 'empty' {
  const values = splitUnescaped(raw, ',')
    .map((v) => textWords(unescapeValue(v)))
    .filter((words) => words.length > 0)
  if (!values.length) return 'empty'
  if (values.some((words) => words.length > MAX_WORDS)) throw invalid(`Parameter ${name}: at most ${MAX_WORDS} words per value`, { expression: [name] })
  return { kind: 'text', name, values }
}

/** `_list=id[,id]`: only stored Lists; the functional lists (`$current-allergies`...) are not kept. */
function parseList(raw: string): SearchFilter | 'empty' {
  const ids = splitUnescaped(raw, ',').map(unescapeValue).filter((v) => v !== '')
  if (!ids.length) return 'empty'
  for (const id of ids) {
    const bare = id.startsWith('List/') ? id.slice(5) : id
    if (!ID.test(bare)) {
      const why = id.startsWith('$') ? 'functional lists ($current-...) are not supported; give the id of a stored List' : 'is not a List id'
      throw invalid(`Parameter _list: '${id.slice(0, 80)}' ${why}`, { expression: ['_list'] })
    }
  }
  return { kind: 'list', name: '_list', ids: ids.map((id) => (id.startsWith('List/') ? id.slice(5) : id)) }
}
