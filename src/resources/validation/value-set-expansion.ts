import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes'

/**
 * The codes of an expanded ValueSet, grouped by code system. Only built when every part of the
 * ValueSet could be evaluated: a partial expansion would reject valid codes.
 */
export interface ExpandedValueSet {
  readonly url: string
  /** system → codes; codes of case-insensitive systems are stored lower-cased. */
  readonly codesBySystem: ReadonlyMap<string, ReadonlySet<string>>
  readonly caseInsensitiveSystems: ReadonlySet<string>
  /** Union of all codes (original case), for elements of type `code`, which carry no system. */
  readonly allCodes: ReadonlySet<string>
}

/** Expands ValueSets by canonical URL; `undefined` means "cannot check", and callers must then accept. */
export interface ValueSetExpander {
  expand(canonical: string): ExpandedValueSet | undefined
}

type SystemCodes = Map<string, Set<string>>

/**
 * Expands the simple ValueSets of the R4 spec: `compose.include` with a concept list, a whole
 * CodeSystem (nested concepts included) or other ValueSets. Filters, non-complete CodeSystems and
 * unknown URLs make the expansion `undefined` rather than partial. Excludes are applied only when
 * they are concept lists; ignoring the rest can only accept more codes, never reject valid ones.
 * Results are cached per URL.
 * See https://hl7.org/fhir/R4/valueset.html#compositions
 */
export function createValueSetExpander(resources: Iterable<ValueSet | CodeSystem>): ValueSetExpander {
  const valueSets = new Map<string, ValueSet>()
  const codeSystems = new Map<string, CodeSystem>()
  for (const resource of resources) {
    const url = resource.url
    if (!url) continue
    const target: Map<string, ValueSet | CodeSystem> = resource.resourceType === 'ValueSet' ? valueSets : codeSystems
    // The first file wins: callers pass the core valuesets.json before the v2/v3 tables.
    if (!target.has(url)) target.set(url, resource)
  }

  const cache = new Map<string, ExpandedValueSet | undefined>()
  const inProgress = new Set<string>()

  const expandCodes = (url: string): SystemCodes | undefined => {
    const valueSet = valueSets.get(url)
    if (!valueSet || inProgress.has(url)) return undefined
    inProgress.add(url)
    try {
      return valueSet.compose ? composeCodes(valueSet.compose.include, valueSet.compose.exclude) : expansionCodes(valueSet)
    } finally {
      inProgress.delete(url)
    }
  }

  const composeCodes = (includes: ValueSetComposeInclude[], excludes: ValueSetComposeInclude[] | undefined) => {
    const result: SystemCodes = new Map()
    for (const include of includes) {
      const codes = includeCodes(include)
      if (!codes) return undefined
      mergeInto(result, codes)
    }
    for (const exclude of excludes ?? []) {
      if (!exclude.system || !exclude.concept || exclude.filter?.length || exclude.valueSet?.length) continue
      const codes = result.get(exclude.system)
      for (const concept of exclude.concept) codes?.delete(concept.code)
    }
    return result
  }

  const includeCodes = (include: ValueSetComposeInclude): SystemCodes | undefined => {
    if (include.filter?.length) return undefined
    let fromSystem: SystemCodes | undefined
    if (include.system) {
      const codes = include.concept
        ? new Set(include.concept.map((c) => c.code))
        : codeSystemCodes(codeSystems.get(include.system))
      if (!codes) return undefined
      fromSystem = new Map([[include.system, codes]])
    }
    if (!include.valueSet?.length) return fromSystem
    // Several valueSet entries intersect with each other and with the system part.
    let result = fromSystem
    for (const canonical of include.valueSet) {
      const codes = expandCodes(stripVersion(canonical))
      if (!codes) return undefined
      result = result ? intersect(result, codes) : codes
    }
    return result
  }

  const expand = (canonical: string): ExpandedValueSet | undefined => {
    const url = stripVersion(canonical)
    if (cache.has(url)) return cache.get(url)
    const codes = expandCodes(url)
    const expanded = codes && toExpanded(url, codes, codeSystems)
    cache.set(url, expanded)
    return expanded
  }

  return { expand }
}

/** True when `code` (of `system`, or of any system for elements of type `code`) is in the expansion. */
export function hasCode(valueSet: ExpandedValueSet, system: string | undefined, code: string): boolean {
  if (system === undefined) {
    if (valueSet.allCodes.has(code)) return true
    for (const s of valueSet.caseInsensitiveSystems) if (valueSet.codesBySystem.get(s)?.has(code.toLowerCase())) return true
    return false
  }
  const codes = valueSet.codesBySystem.get(system)
  return !!codes && codes.has(valueSet.caseInsensitiveSystems.has(system) ? code.toLowerCase() : code)
}

/** Strips a `|version` suffix from a canonical URL (bindings say `…/administrative-gender|4.0.1`). */
export function stripVersion(canonical: string): string {
  const bar = canonical.indexOf('|')
  return bar === -1 ? canonical : canonical.slice(0, bar)
}

function codeSystemCodes(codeSystem: CodeSystem | undefined): Set<string> | undefined {
  if (!codeSystem || codeSystem.content !== 'complete' || !codeSystem.concept) return undefined
  const codes = new Set<string>()
  const visit = (concepts: CodeSystemConcept[]) => {
    for (const concept of concepts) {
      codes.add(concept.code)
      if (concept.concept) visit(concept.concept)
    }
  }
  visit(codeSystem.concept)
  return codes
}

function expansionCodes(valueSet: ValueSet): SystemCodes | undefined {
  const contains = valueSet.expansion?.contains
  // An expansion with `total` larger than what is listed was paged: do not trust it.
  if (!contains || (valueSet.expansion?.total !== undefined && valueSet.expansion.total > contains.length)) return undefined
  const result: SystemCodes = new Map()
  const visit = (entries: ValueSetExpansionContains[]) => {
    for (const entry of entries) {
      if (entry.system && entry.code) addCode(result, entry.system, entry.code)
      if (entry.contains) visit(entry.contains)
    }
  }
  visit(contains)
  return result
}

function toExpanded(url: string, codes: SystemCodes, codeSystems: ReadonlyMap<string, CodeSystem>): ExpandedValueSet {
  const caseInsensitiveSystems = new Set<string>()
  const codesBySystem = new Map<string, ReadonlySet<string>>()
  const allCodes = new Set<string>()
  for (const [system, systemCodes] of codes) {
    for (const code of systemCodes) allCodes.add(code)
    if (codeSystems.get(system)?.caseSensitive === false) {
      caseInsensitiveSystems.add(system)
      codesBySystem.set(system, new Set([...systemCodes].map((c) => c.toLowerCase())))
    } else {
      codesBySystem.set(system, systemCodes)
    }
  }
  return { url, codesBySystem, caseInsensitiveSystems, allCodes }
}

function addCode(target: SystemCodes, system: string, code: string): void {
  let codes = target.get(system)
  if (!codes) target.set(system, (codes = new Set()))
  codes.add(code)
}

function mergeInto(target: SystemCodes, source: SystemCodes): void {
  for (const [system, codes] of source) for (const code of codes) addCode(target, system, code)
}

function intersect(a: SystemCodes, b: SystemCodes): SystemCodes {
  const result: SystemCodes = new Map()
  for (const [system, codes] of a) {
    const other = b.get(system)
    if (!other) continue
    for (const code of codes) if (other.has(code)) addCode(result, system, code)
  }
  return result
}
