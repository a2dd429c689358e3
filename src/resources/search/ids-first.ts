import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database } from '../../db/database.js'
import { orderKeys, rowsOfIds, type PageAt, type PageRow } from './compile.js'
import { walkQuery, lastWalkedQuery } from './has-walk.js'
import { keysetCondition, orderBy, type OrderKey } from './paging.js'
import type { SearchPlan } from './plan.js'
import type { LinkIds } from './link-filters.js'
import { linkIds } from './where.js'

/**
 * A page of a search whose one filter is a chain (`Observation?subject.name=perez`) or a `_has`
 * (`Patient?_has:Observation:subject:code=2093-3`), in id order (the default, or `_sort=_id` /
 * `-_id`), sorts the matching ids before it fetches any resource: the ids come from reference rows
 * alone (link-filters.ts LinkIds), and only the page's resources are read. PostgreSQL's own plan for
 * the EXISTS form reads every matching resource and then keeps the first 21. At 1,000,000
 * resources: 7,706 Observations for "Pérez" (128 ms, of which 105 ms fetching rows), 22,944 for
 * "maría" (380-520 ms); sorted first, 20-28 ms and 48-87 ms. Its join estimates cannot see that one
 * patient has dozens of Observations, so it expects a few hundred rows and never picks that form.
 *
 * Beyond `limit` (driver rows times their rowCost: the chain's reference rows; a `_has`'s inner
 * matches, one reference probe each) the sort costs more than the plan the planner picks for dense
 * matches (walk the resource key in id order, probe each row, stop after a page:
 * `subject.gender=female`, about 250,000 Observations, 5 ms against 657 ms sorted), so a count that
 * stops past the bound decides first; the page then runs as compile.ts builds it. That count costs
 * a dense chain about 35 ms.
 *
 * A `_has` with at least HAS_WALK_FROM inner matches walks its targets in id order first
 * (has-walk.ts): common matches fill a page after a few targets.
 */
const IDS_FIRST_LIMIT = 30_000
/** From this many inner matches a `_has` page first walks its targets in id order (has-walk.ts). */
const HAS_WALK_FROM = 2_000
/**
 * Targets a walk reads per inner match before it gives way to the sorted targets. A target costs a
 * probe per reference read until one matches: all of them when none does, about 60 at 1M. So a walk
 * of n/32 targets that finds too few costs at most about twice the sorted form's n probes (5-8 us
 * each), and then the sorted form runs; targets with many more references each raise that bound.
 * Common matches need few: 33 targets for a page of smoking status, where 13,229 matches allow 414.
 */
const HAS_WALK_SPAN_PER_MATCH = 1 / 32

/** Tests lower these to reach the plans that many matches take. */
export interface IdsFirstLimits {
  /** How many ids a chain's or `_has`'s page may sort before fetching (IDS_FIRST_LIMIT). */
  readonly idsFirstLimit?: number
  /** From how many inner matches a `_has` page walks its targets first (HAS_WALK_FROM). */
  readonly hasWalkFrom?: number
}

/** The page's rows when the plan has that shape and few enough ids; else undefined (the page as compile.ts builds it). */
export async function idsFirstPage(db: Kysely<Database>, plan: SearchPlan, at: PageAt, limits: IdsFirstLimits = {}): Promise<PageRow[] | undefined> {
  const link = linkOf(plan, { inIdOrder: true })
  if (!link) return undefined
  const bound = Math.floor((limits.idsFirstLimit ?? IDS_FIRST_LIMIT) / link.rowCost)
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM (SELECT 1 FROM (${link.driver}) AS d(id) LIMIT ${bound + 1}) c`.execute(db)
  const n = Number(rows[0]?.n ?? 0)
  if (n > bound) return undefined
  // The one key is the id (orderKeys: id last, and only).
  const keys = orderKeys(plan, 0)
  if (!link.matchOf || n < (limits.hasWalkFrom ?? HAS_WALK_FROM)) return (await sortedPageQuery(plan, at, keys, link).execute(db)).rows
  const span = Math.max(1, Math.ceil(n * HAS_WALK_SPAN_PER_MATCH))
  const walked = (await walkQuery(plan, at, keys, link.matchOf, span).execute(db)).rows
  if (walked.length >= at.limit) return walked
  const last = (await lastWalkedQuery(plan, at, keys, span).execute(db)).rows[0]
  if (!last) return walked
  const rest = { ...at, cursor: { direction: at.direction, phase: at.phase, keys: [], id: last.id }, limit: at.limit - walked.length }
  return [...walked, ...(await sortedPageQuery(plan, rest, keys, link).execute(db)).rows]
}

/** The page from the link's ids, sorted, each probed in the resource key. */
function sortedPageQuery(plan: SearchPlan, at: PageAt, orderKeys: readonly OrderKey[], link: LinkIds): RawBuilder<PageRow> {
  const keys = orderKeys.map((key) => ({ ...key, expression: sql.raw('d.id') }))
  const after = at.cursor ? sql`WHERE ${keysetCondition(keys, [at.cursor.id], at.direction)}` : sql``
  return rowsOfIds(plan, sql`SELECT DISTINCT d.id FROM (${link.ids}) AS d(id) ${after} ORDER BY ${orderBy(keys, at.direction)}`, orderKeys, at.direction, at.limit)
}

/**
 * `_total=accurate` of a search on one chain, from its reference rows alone: its ids are live
 * resources of the type, so counting them distinct is the count, without the resource row of every
 * match that the EXISTS count reads (22,944 Observations for "maría": 253 ms). Any sort order: a
 * count has none. Undefined for other plans.
 */
export function idsCountQuery(plan: SearchPlan): RawBuilder<{ n: string }> | undefined {
  const link = linkOf(plan, { inIdOrder: false })
  return link?.live ? sql<{ n: string }>`SELECT count(DISTINCT d.id) AS n FROM (${link.ids}) AS d(id)` : undefined
}

/** The link's id queries when the plan is a type search on that one chain or `_has` (for a page, in id order). */
function linkOf(plan: SearchPlan, options: { inIdOrder: boolean }): LinkIds | undefined {
  if (plan.contained || plan.system || plan.filters.length !== 1) return undefined
  if (options.inIdOrder && plan.sort.some((s) => s.source !== 'resource' || s.column !== 'id')) return undefined
  return linkIds({ tenantId: plan.tenantId, alias: 'r', type: plan.resourceType }, plan.filters[0]!, 'x0')
}
