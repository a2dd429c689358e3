import { parseFhirPath } from '@medplum/core'
import type { SearchParameter } from '@medplum/fhirtypes'
import { invalid, type FhirError } from '../../errors.js'
import { isResourceType } from '../validation/index.js'
import { compileExpression } from './expression.js'
import type { SearchParamRegistry } from './registry.js'
import { listOf } from './search-param-def.js'

/** Types a tenant's parameter can have: those with an index table (`special` needs an engine of its own). */
const INDEXED_TYPES = new Set(['number', 'date', 'string', 'token', 'reference', 'composite', 'quantity', 'uri'])
/** `.` chains, `:` starts a modifier, `_` leads the spec's common parameters: none may appear in a custom code. */
const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
const GENERIC_BASES = new Set(['Resource', 'DomainResource'])

/**
 * Checks a tenant's SearchParameter (https://hl7.org/fhir/R4/searchparameter.html) before it is
 * stored, so that a stored one can always be compiled and searched: a usable code, known base and
 * target types, an indexable type, FHIRPath expressions that parse and apply to each base,
 * composite components that name known non-composite parameters, and a code that no other
 * parameter of the same resource type already uses (unless it is the same definition: same url,
 * or an earlier version of the same resource). `registry` is the tenant's registry in force.
 * Throws `invalid` naming the element to fix. Runs on the structurally validated resource.
 */
export function checkSearchParameter(sp: SearchParameter, registry: SearchParamRegistry): void {
  const code = typeof sp.code === 'string' ? sp.code : ''
  if (!CODE_PATTERN.test(code)) {
    throw bad(
      `SearchParameter.code '${code.slice(0, 80)}' is not usable: start with a letter, then up to 63 letters, digits, '-' or '_' (no '.', ':' or leading '_')`,
      'SearchParameter.code',
    )
  }
  // Validation reads an empty [] or {} as absent (as @medplum/core does): only arrays are lists here.
  const bases = listOf(sp.base)
  bases.forEach((base, i) => {
    if (!GENERIC_BASES.has(base) && !isResourceType(base)) throw bad(`SearchParameter.base '${base}' is not an R4 resource type`, `SearchParameter.base[${i}]`)
  })
  const type = typeof sp.type === 'string' ? sp.type : ''
  if (!INDEXED_TYPES.has(type)) {
    throw bad(`SearchParameter.type '${type}' cannot be indexed here: use one of ${[...INDEXED_TYPES].join(', ')}`, 'SearchParameter.type')
  }
  checkExpression(sp, bases)
  listOf(sp.target).forEach((target, i) => {
    if (!isResourceType(target)) throw bad(`SearchParameter.target '${target}' is not an R4 resource type`, `SearchParameter.target[${i}]`)
  })
  if (type === 'composite') checkComponents(sp, registry)
  else if (listOf(sp.component).length) throw bad('SearchParameter.component is only for composite parameters', 'SearchParameter.component')
  if (sp.status === 'active' || sp.status === 'draft') checkCollisions(sp, bases, registry)
}

function checkExpression(sp: SearchParameter, bases: readonly string[]) {
  const expression = typeof sp.expression === 'string' ? sp.expression.trim() : ''
  if (!expression) throw bad('SearchParameter.expression is required: the FHIRPath that selects the values to index', 'SearchParameter.expression')
  parseOrThrow(expression, 'SearchParameter.expression')
  bases.forEach((base, i) => {
    if (GENERIC_BASES.has(base)) return
    let compiled: unknown
    try {
      compiled = compileExpression(expression, base)
    } catch (e) {
      throw bad(`SearchParameter.expression cannot be compiled for ${base}: ${(e as Error).message}`, 'SearchParameter.expression')
    }
    if (!compiled) {
      throw bad(`SearchParameter.expression '${expression.slice(0, 120)}' selects nothing on base ${base} (every part starts with another resource type)`, `SearchParameter.base[${i}]`)
    }
  })
}

function checkComponents(sp: SearchParameter, registry: SearchParamRegistry) {
  const components = listOf(sp.component)
  if (components.length < 2) throw bad('A composite SearchParameter needs at least two SearchParameter.component entries', 'SearchParameter.component')
  components.forEach((c, i) => {
    const at = `SearchParameter.component[${i}]`
    const part = c.definition ? registry.definitionByUrl(c.definition) : undefined
    if (!part) throw bad(`${at}.definition '${String(c.definition ?? '')}' is not a SearchParameter known to this tenant`, `${at}.definition`)
    if (!INDEXED_TYPES.has(part.type ?? '') || part.type === 'composite') {
      throw bad(`${at}.definition names a ${String(part.type)} parameter; components must be simple (not composite or special)`, `${at}.definition`)
    }
    parseOrThrow(typeof c.expression === 'string' ? c.expression : '', `${at}.expression`)
  })
}

function checkCollisions(sp: SearchParameter, bases: readonly string[], registry: SearchParamRegistry) {
  const code = sp.code!
  const root = registry.root
  for (const base of bases) {
    const taken = root.definitionsWithCode(base, code).find((other) => other.url !== sp.url)
    if (taken) {
      throw bad(
        `SearchParameter.code '${code}' is already a base parameter of ${base === 'Resource' || base === 'DomainResource' ? taken.base?.join(', ') : base} (${taken.url}); choose another code`,
        'SearchParameter.code',
      )
    }
  }
  const customs = registry === root ? [] : registry.ownDefinitions
  const clash = customs.find((other) => other.code === code && other.id !== sp.id && other.url !== sp.url && overlaps(other.base ?? [], bases))
  if (clash) {
    throw bad(`SearchParameter.code '${code}' is already used by this tenant's SearchParameter/${clash.id} (${clash.url}) on ${(clash.base ?? []).join(', ')}`, 'SearchParameter.code')
  }
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  if (a.some((x) => GENERIC_BASES.has(x)) || b.some((x) => GENERIC_BASES.has(x))) return true
  return a.some((x) => b.includes(x))
}

function parseOrThrow(expression: string, element: string) {
  if (!expression.trim()) throw bad(`${element} is required`, element)
  try {
    parseFhirPath(expression)
  } catch (e) {
    throw bad(`${element} is not valid FHIRPath: ${(e as Error).message}`, element)
  }
}

function bad(diagnostics: string, element: string): FhirError {
  return invalid(diagnostics, { expression: [element], code: 'invalid' })
}
