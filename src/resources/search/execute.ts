import type { Kysely, RawBuilder } from 'kysely'
import type { Database } from '../../db/database.js'
import { toStored } from '../resource-store.js'
import type { StoredResource } from '../types.js'
import { compileCountQuery, compileEstimateQuery, compilePageQuery, orderKeys, type PageAt, type PageRow } from './compile.js'
import type { SearchPlan } from './plan.js'
import { compileContainedCountQuery, compileContainedEstimateQuery, compileContainedPageQuery, containedOrderKeys } from './contained-compile.js'
import { containedEntry } from './contained-entry.js'
import { idsCountQuery, idsFirstPage, type IdsFirstLimits } from './ids-first.js'
import { liveCount } from './live-count.js'
import type { OrderKey } from './paging.js'
import { compileSystemCountQuery, compileSystemEstimateQuery, compileSystemPageQuery, systemOrderKeys } from './system-compile.js'
import type { PageCursor, SearchRequest } from './types.js'

export interface SearchOutcome {
  readonly entries: readonly StoredResource[]
  readonly total?: number
  readonly next?: PageCursor
  readonly previous?: PageCursor
}

/**
 * Runs a planned search: the page (phase by phase, stopping as soon as it has `count + 1` rows, the
 * extra row telling whether a next page exists) and the total the request asked for: `estimate`
 * alongside the page; `accurate` (the default) from the page itself when the page is the whole
 * result, else by a count query after it.
 */
export type ExecuteOptions = IdsFirstLimits

export async function executeSearch(db: Kysely<Database>, plan: SearchPlan, request: SearchRequest, options: ExecuteOptions = {}): Promise<SearchOutcome> {
  const isCountOnly = request.summary === 'count' || request.count === 0
  if (isCountOnly) return { entries: [], total: await countAll(db, plan) }
  if (request.total === 'estimate') {
    const [page, total] = await Promise.all([readPage(db, plan, request.cursor, options), estimate(db, plan)])
    return { ...page, total }
  }
  const page = await readPage(db, plan, request.cursor, options)
  if (request.total === 'none') return page
  // The first page read `count + 1` rows: when it has no next page it holds every match, so its
  // length is the exact total and the count query (a scan of every match) is not needed. Only a
  // full first page, or a later page, pays for the count (test/resources/search/total.int.test.ts).
  const isWholeResult = request.cursor === undefined && page.next === undefined
  return { ...page, total: isWholeResult ? page.entries.length : await countAll(db, plan) }
}

/** The page, count and estimate SQL of a type, system or contained search, and the keys its cursors hold. */
interface SearchSql {
  page(at: PageAt): RawBuilder<PageRow>
  count(): RawBuilder<{ n: string }>
  estimate(): RawBuilder<{ 'QUERY PLAN': unknown }>
  orderKeys(phase: number): OrderKey[]
}

function sqlOf(plan: SearchPlan): SearchSql {
  if (plan.contained) {
    return { page: (at) => compileContainedPageQuery(plan, at), count: () => compileContainedCountQuery(plan), estimate: () => compileContainedEstimateQuery(plan), orderKeys: containedOrderKeys }
  }
  if (plan.system) {
    return { page: (at) => compileSystemPageQuery(plan, at), count: () => compileSystemCountQuery(plan), estimate: () => compileSystemEstimateQuery(plan), orderKeys: () => systemOrderKeys(plan) }
  }
  return { page: (at) => compilePageQuery(plan, at), count: () => compileCountQuery(plan), estimate: () => compileEstimateQuery(plan), orderKeys: (phase) => orderKeys(plan, phase) }
}

async function readPage(db: Kysely<Database>, plan: SearchPlan, cursor: PageCursor | undefined, options: ExecuteOptions) {
  const compiled = sqlOf(plan)
  const direction = cursor?.direction ?? 'after'
  const start = cursor?.phase ?? 0
  const phases = direction === 'after' ? range(start, plan.phases - 1) : range(start, 0)
  const rows: { row: PageRow; phase: number }[] = []
  for (const phase of phases) {
    const limit = plan.count + 1 - rows.length
    const at = { phase, direction, cursor: phase === start ? cursor : undefined, limit }
    const found = (await idsFirstPage(db, plan, at, options)) ?? (await compiled.page(at).execute(db)).rows
    for (const row of found) rows.push({ row, phase })
    if (rows.length > plan.count) break
  }
  const hasMore = rows.length > plan.count
  const page = rows.slice(0, plan.count)
  if (direction === 'before') page.reverse()
  const first = page[0]
  const last = page[page.length - 1]
  const at = (entry: { row: PageRow; phase: number }, d: 'after' | 'before'): PageCursor => ({
    direction: d,
    phase: entry.phase,
    keys: compiled.orderKeys(entry.phase).slice(0, -1).map((_, i) => entry.row[`k${i}`] ?? null),
    id: entry.row.id,
  })
  const next = last && (direction === 'before' || hasMore) ? at(last, 'after') : undefined
  const previous = first && (direction === 'after' ? cursor !== undefined : hasMore) ? at(first, 'before') : undefined
  const entries = page.map(({ row }) => (row.ord == null ? toStored(row.resource_type, row.id, { ...row, deleted: false }) : containedEntry(row)))
  return { entries, next, previous }
}

function range(from: number, to: number): number[] {
  const out: number[] = []
  for (let i = from; from <= to ? i <= to : i >= to; i += from <= to ? 1 : -1) out.push(i)
  return out
}

async function countAll(db: Kysely<Database>, plan: SearchPlan): Promise<number> {
  const whole = await liveCount(db, plan)
  if (whole !== undefined) return whole
  const { rows } = await (idsCountQuery(plan) ?? sqlOf(plan).count()).execute(db)
  return Number(rows[0]?.n ?? 0)
}

/** The planner's estimate; a whole type's (or tenant's) live count instead, which is exact and as cheap. */
async function estimate(db: Kysely<Database>, plan: SearchPlan): Promise<number> {
  const whole = await liveCount(db, plan)
  if (whole !== undefined) return whole
  const { rows } = await sqlOf(plan).estimate().execute(db)
  const explained = rows[0]?.['QUERY PLAN']
  const json = typeof explained === 'string' ? (JSON.parse(explained) as unknown) : explained
  const planRows = (json as { Plan?: { 'Plan Rows'?: number } }[] | undefined)?.[0]?.Plan?.['Plan Rows']
  return Math.max(0, Math.round(planRows ?? 0))
}
