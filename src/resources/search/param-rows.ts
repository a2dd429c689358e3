import { sql, type RawBuilder } from 'kysely'
import type { SearchParamDef } from '../indexing/registry.js'
import { andKey } from './lookup-key.js'
import { col, containedOrd, sameType, scopedParam, scopeTypes, type RowScope } from './scope.js'

export interface ParamRowsOptions {
  /** Rows written under `<code><suffix>`: `:identifier` for a reference's identifier token rows. */
  readonly suffix?: string
  /**
   * Only rows that can name a local resource (a chain, `_has`, `_include`): a union alias of the
   * rows of one target type (`patient`) then reads its members' rows alone, since the rows of its
   * own hold no local reference to that type (indexing/union-alias-rows.ts).
   */
  readonly isLink?: boolean
  /** Before every code: a contained resource's rows (`Patient#`, scope.ts scopedParam). */
  readonly prefix?: string
}

/**
 * `x.param = ...`: the index rows alias `x` must have to be rows of `def`. A plain parameter's are
 * its own. A union alias (indexing/union-alias.ts) has its members' instead, so a clause on it is
 * the same clause on any member: one `param = ANY(...)` probe, which keeps a semi-join on the
 * lookup index where an OR of EXISTS would not. `patient` reads the `subject` rows whose ref_type is
 * Patient, and its own (external references, identifiers).
 */
export function paramCondition(x: string, def: SearchParamDef, options: ParamRowsOptions = {}): RawBuilder<unknown> {
  const param = sql.raw(`${x}.param`)
  const suffix = options.suffix ?? ''
  const p = (code: string) => (options.prefix ?? '') + code
  const union = def.union
  if (!union) return sql`${param} = ${p(def.code + suffix)}`
  if (union.refType === undefined) return anyOf(param, union.members.map((m) => p(m.code + suffix)))
  // The members' identifier rows do not say which identifiers are a Patient's: only own ones count.
  if (suffix) return sql`${param} = ${p(def.code + suffix)}`
  const members = anyOf(param, union.members.map((m) => p(m.code)))
  const refType = sql`${sql.raw(`${x}.ref_type`)} = ${union.refType}`
  if (options.isLink) return sql`${members} AND ${refType}`
  return sql`${anyOf(param, [...union.members.map((m) => p(m.code)), p(def.code)])} AND (${refType} OR ${param} = ${p(def.code)})`
}

/** Every `param` paramCondition can match: the codes whose lookup-index keys a reader gives (lookup-key.ts). */
export function paramCodes(def: SearchParamDef, options: ParamRowsOptions = {}): string[] {
  const suffix = options.suffix ?? ''
  const p = (code: string) => (options.prefix ?? '') + code
  const union = def.union
  if (!union || (suffix && union.refType !== undefined)) return [p(def.code + suffix)]
  const members = union.members.map((m) => p(m.code + suffix))
  return union.refType === undefined || options.isLink ? members : [...members, p(def.code)]
}

/** `x.tenant_id = .. AND x.resource_type = .. AND <paramCondition> AND x.id = <row>.id` (scope.ts indexKey, for any parameter). */
export function paramKey(scope: RowScope, table: string, x: string, def: SearchParamDef, options: ParamRowsOptions = {}): RawBuilder<unknown> {
  const a = (c: string) => sql.raw(`${x}.${c}`)
  const scoped = { ...options, prefix: scopedParam(scope, '') }
  const key = andKey(table, x, scope.tenantId, scopeTypes(scope), paramCodes(def, scoped))
  return sql`${a('tenant_id')} = ${scope.tenantId} AND ${sameType(scope, x)} AND ${paramCondition(x, def, scoped)}${key} AND ${a('id')} = ${col(scope, 'id')}${containedOrd(scope, x)}`
}

/** `FROM <table> x WHERE <paramKey>`: the rows of `def` of the scope's row. */
export function paramRowsOf(scope: RowScope, table: string, x: string, def: SearchParamDef, options: ParamRowsOptions = {}): RawBuilder<unknown> {
  return sql`FROM ${sql.table(table)} ${sql.raw(x)} WHERE ${paramKey(scope, table, x, def, options)}`
}

/**
 * `x.param` of the link rows (reference rows naming a local resource) of any of `defs`: plain
 * parameters and plain unions by name, a union of one target type's rows with its restriction.
 */
export function linkParamsCondition(x: string, defs: readonly SearchParamDef[]): RawBuilder<unknown> {
  const plain = new Set<string>()
  const restricted = new Map<string, Set<string>>()
  for (const def of defs) {
    const refType = def.union?.refType
    const codes = def.union ? def.union.members.map((m) => m.code) : [def.code]
    if (refType === undefined) codes.forEach((c) => plain.add(c))
    else codes.forEach((c) => restricted.set(refType, (restricted.get(refType) ?? new Set()).add(c)))
  }
  const param = sql.raw(`${x}.param`)
  const parts: RawBuilder<unknown>[] = []
  if (plain.size) parts.push(anyOf(param, [...plain]))
  for (const [refType, codes] of restricted) {
    // A member listed plainly too (`_include=Observation:*` names subject and patient) reads all its rows.
    const rest = [...codes].filter((c) => !plain.has(c))
    if (rest.length) parts.push(sql`(${anyOf(param, rest)} AND ${sql.raw(`${x}.ref_type`)} = ${refType})`)
  }
  if (!parts.length) return sql`FALSE`
  return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` OR `)})`
}

/** Every `param` linkParamsCondition can match. */
export function linkParamCodes(defs: readonly SearchParamDef[]): string[] {
  return defs.flatMap((def) => (def.union ? def.union.members.map((m) => m.code) : [def.code]))
}

function anyOf(param: RawBuilder<unknown>, codes: readonly string[]): RawBuilder<unknown> {
  const unique = [...new Set(codes)]
  return unique.length === 1 ? sql`${param} = ${unique[0]!}` : sql`${param} = ANY(${unique}::text[])`
}
