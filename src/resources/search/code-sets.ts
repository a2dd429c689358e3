import { sql, type Kysely } from 'kysely'
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeIncludeFilter, ValueSetExpansionContains } from '@medplum/fhirtypes'
import type { Database } from '../../db/database.js'
import { searchKey } from '../indexing/search-key.js'
import { invalid } from '../../errors.js'
import type { CodeSetExpansion, CodeSetValue, SearchClause, SearchFilter } from './types.js'

/** ValueSets including ValueSets nest at most this deep (and a cycle stops there). */
const MAX_NESTING = 5

/**
 * Expands the token `:in` / `:not-in` / `:below` / `:above` values of the filters from the tenant's
 * stored terminology (https://hl7.org/fhir/R4/search.html#token): a ValueSet by id or canonical url,
 * its `compose.include` concept lists, whole-system includes, `is-a` / `descendent-of` filters and
 * included ValueSets, less `compose.exclude`; else its stored `expansion.contains`. `:below` /
 * `:above` walk the CodeSystem's concept nesting (and `parent` properties). Unknown terminology is a
 * 400 naming the parameter: guessing would return wrong results silently.
 */
export async function expandCodeSets(db: Kysely<Database>, tenantId: string, filters: readonly SearchFilter[]): Promise<SearchFilter[]> {
  const store = new TerminologyReader(db, tenantId)
  return Promise.all(filters.map((f) => expandFilter(store, f)))
}

async function expandFilter(store: TerminologyReader, filter: SearchFilter): Promise<SearchFilter> {
  switch (filter.kind) {
    case 'param': return filter.values.some((v) => v.kind === 'code-set') ? expandClause(store, filter) : filter
    case 'chain': return { ...filter, targets: await Promise.all(filter.targets.map(async (t) => ({ ...t, filter: await expandFilter(store, t.filter) }))) }
    case 'has': return { ...filter, filter: await expandFilter(store, filter.filter) }
    default: return filter
  }
}

async function expandClause(store: TerminologyReader, clause: SearchClause): Promise<SearchClause> {
  const values = await Promise.all(
    clause.values.map(async (v) => (v.kind === 'code-set' ? { ...v, expansion: await expandValue(store, clause.name, v) } : v)),
  )
  return { ...clause, values }
}

async function expandValue(store: TerminologyReader, name: string, v: CodeSetValue): Promise<CodeSetExpansion> {
  const fail = (why: string) => invalid(`Parameter ${name}: ${why}`, { expression: [name] })
  const source = v.source
  if ('valueSet' in source) return expandValueSet(store, fail, source.valueSet, 0)
  const codeSystem = await store.codeSystem(source.system)
  if (!codeSystem) throw fail(`CodeSystem ${source.system} is not stored in this tenant; :${source.direction} needs its hierarchy`)
  const hierarchy = conceptHierarchy(codeSystem)
  const codes = source.direction === 'below' ? descendants(hierarchy, source.code) : ancestors(hierarchy, source.code)
  return { codes: new Map([[source.system, codes]]), systems: [] }
}

type Fail = (why: string) => Error

async function expandValueSet(store: TerminologyReader, fail: Fail, reference: string, depth: number): Promise<CodeSetExpansion> {
  if (depth > MAX_NESTING) throw fail(`ValueSet ${reference} nests other ValueSets more than ${MAX_NESTING} deep`)
  const valueSet = await store.valueSet(reference)
  if (!valueSet) throw fail(`ValueSet '${reference.slice(0, 120)}' is not stored in this tenant (give its id or canonical url)`)
  const codes = new Map<string, Set<string>>()
  const systems = new Map<string, Set<string>>()
  const add = (system: string, code: string) => {
    const set = codes.get(system) ?? new Set<string>()
    set.add(code)
    codes.set(system, set)
  }
  const compose = valueSet.compose
  if (!compose) {
    const walk = (contains: readonly ValueSetExpansionContains[] | undefined) => {
      for (const c of contains ?? []) {
        if (c.code) add(c.system ?? '', c.code)
        walk(c.contains)
      }
    }
    walk(valueSet.expansion?.contains)
    return freeze(codes, systems)
  }
  for (const include of compose.include ?? []) {
    const system = include.system ?? ''
    for (const nested of include.valueSet ?? []) {
      const inner = await expandValueSet(store, fail, nested, depth + 1)
      for (const [s, list] of inner.codes) for (const code of list) add(s, code)
      for (const whole of inner.systems) systems.set(whole.system, new Set(whole.except))
    }
    if (include.concept?.length) for (const c of include.concept) add(system, c.code ?? '')
    else if (include.filter?.length) {
      for (const code of await filteredCodes(store, fail, system, include.filter)) add(system, code)
    } else if (include.system && !include.valueSet?.length) systems.set(include.system, systems.get(include.system) ?? new Set())
  }
  for (const exclude of compose.exclude ?? []) {
    const system = exclude.system ?? ''
    for (const c of exclude.concept ?? []) {
      codes.get(system)?.delete(c.code ?? '')
      systems.get(system)?.add(c.code ?? '')
    }
  }
  return freeze(codes, systems)
}

/** `is-a` / `descendent-of` on a stored CodeSystem; any other filter needs a terminology server. */
async function filteredCodes(store: TerminologyReader, fail: Fail, system: string, filters: readonly ValueSetComposeIncludeFilter[]): Promise<string[]> {
  const codeSystem = await store.codeSystem(system)
  if (!codeSystem) throw fail(`ValueSet filter on ${system}: that CodeSystem is not stored in this tenant`)
  const hierarchy = conceptHierarchy(codeSystem)
  let result: Set<string> | undefined
  for (const f of filters) {
    if (f.property !== 'concept' || (f.op !== 'is-a' && f.op !== 'descendent-of')) throw fail(`ValueSet filter '${f.property} ${f.op}' is not supported (only concept is-a / descendent-of)`)
    const below = descendants(hierarchy, f.value ?? '')
    const codes = new Set(f.op === 'is-a' ? below : below.filter((c) => c !== f.value))
    result = result ? new Set([...result].filter((c) => codes.has(c))) : codes
  }
  return [...(result ?? [])]
}

function freeze(codes: Map<string, Set<string>>, systems: Map<string, Set<string>>): CodeSetExpansion {
  return {
    codes: new Map([...codes].map(([s, set]) => [s, [...set].filter(Boolean)])),
    systems: [...systems].map(([system, except]) => ({ system, except: [...except] })),
  }
}

/** child code → parent codes, from concept nesting and `parent` properties. */
function conceptHierarchy(codeSystem: CodeSystem): Map<string, Set<string>> {
  const parents = new Map<string, Set<string>>()
  const link = (child: string, parent: string) => {
    const set = parents.get(child) ?? new Set<string>()
    set.add(parent)
    parents.set(child, set)
  }
  const walk = (concepts: readonly CodeSystemConcept[] | undefined, parent: string | undefined) => {
    for (const c of concepts ?? []) {
      if (!c.code) continue
      if (!parents.has(c.code)) parents.set(c.code, new Set())
      if (parent) link(c.code, parent)
      for (const p of c.property ?? []) if (p.code === 'parent' && p.valueCode) link(c.code, p.valueCode)
      walk(c.concept, c.code)
    }
  }
  walk(codeSystem.concept, undefined)
  return parents
}

function descendants(parents: Map<string, Set<string>>, code: string): string[] {
  const children = new Map<string, string[]>()
  for (const [child, ps] of parents) for (const p of ps) children.set(p, [...(children.get(p) ?? []), child])
  const out = new Set([code])
  const queue = [code]
  while (queue.length) for (const c of children.get(queue.pop()!) ?? []) if (!out.has(c)) (out.add(c), queue.push(c))
  return [...out]
}

function ancestors(parents: Map<string, Set<string>>, code: string): string[] {
  const out = new Set([code])
  const queue = [code]
  while (queue.length) for (const p of parents.get(queue.pop()!) ?? []) if (!out.has(p)) (out.add(p), queue.push(p))
  return [...out]
}

/** Reads current ValueSets / CodeSystems of one tenant, by id or by canonical url (search_uri `url` rows). */
class TerminologyReader {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
  ) {}

  valueSet(reference: string): Promise<ValueSet | undefined> {
    const id = /^(ValueSet\/)?([A-Za-z0-9\-.]{1,64})$/.exec(reference)?.[2]
    return id ? this.byId<ValueSet>('ValueSet', id) : this.byUrl<ValueSet>('ValueSet', reference)
  }

  codeSystem(url: string): Promise<CodeSystem | undefined> {
    return this.byUrl<CodeSystem>('CodeSystem', url)
  }

  private async byId<T>(type: string, id: string): Promise<T | undefined> {
    const { rows } = await sql<{ content: string }>`SELECT content FROM resource
      WHERE tenant_id = ${this.tenantId} AND resource_type = ${type} AND id = ${id} AND deleted = false`.execute(this.db)
    return rows[0] ? (JSON.parse(rows[0].content) as T) : undefined
  }

  private async byUrl<T>(type: string, url: string): Promise<T | undefined> {
    // Several versions of one canonical may be stored: the most recently written wins.
    const { rows } = await sql<{ content: string }>`SELECT r.content FROM search_uri u
      JOIN resource r ON r.tenant_id = u.tenant_id AND r.resource_type = u.resource_type AND r.id = u.id AND r.deleted = false
      WHERE u.tenant_id = ${this.tenantId} AND u.resource_type = ${type} AND u.param = 'url' AND u.pkey = ${searchKey(this.tenantId, type, 'url')}::int8 AND u.value = ${url.split('|')[0]!}
      ORDER BY r.last_updated DESC LIMIT 1`.execute(this.db)
    return rows[0] ? (JSON.parse(rows[0].content) as T) : undefined
  }
}
