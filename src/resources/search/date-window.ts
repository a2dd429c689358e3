import { sql, type RawBuilder } from 'kysely'
import type { SearchClause } from './types.js'

/**
 * The bounds a date window implies on the other column of its one row, through the parameter's
 * longest stored range (search_date_span, migrations/0014_date_span.sql): every row that `high >
 * floor` and `low < ceiling` hold for has `low >= floor - max_span` and `high <= ceiling +
 * max_span`. Same results; what changes is that each column gets a range with two ends, so the walk
 * of search_date_lookup or search_date_high covers the window and not everything before or after
 * it: `Observation?code=...&date=ge2014-04-01&date=lt2014-07-01&_sort=-date` walked back from
 * 2024 (400,000 entries, 120-300 ms at 1,000,000 resources). An open-ended range ('Infinity'), a
 * span over ~950 years (3e10 s, so that the bound stays a valid timestamp) or no span row leave
 * that side unbounded.
 */
export function spanBounds(key: { tenantId: string; resourceType: string; param: string }, clauses: readonly SearchClause[], x: string): RawBuilder<unknown> | undefined {
  const floors = clauses.map(floorOf).filter((d): d is Date => d !== undefined)
  const ceilings = clauses.map(ceilingOf).filter((d): d is Date => d !== undefined)
  if (!floors.length || !ceilings.length) return undefined
  const floor = new Date(Math.max(...floors.map((d) => d.getTime())))
  const ceiling = new Date(Math.min(...ceilings.map((d) => d.getTime())))
  const shifted = (at: Date, sign: '-' | '+', open: string) =>
    sql`coalesce((SELECT CASE WHEN max(d.max_span) < 3e10 THEN ${at}::timestamptz ${sql.raw(sign)} max(d.max_span) * interval '1 second' END FROM search_date_span d
      WHERE d.tenant_id = ${key.tenantId} AND d.resource_type = ${key.resourceType} AND d.param = ${key.param}), ${sql.lit(open)}::timestamptz)`
  return sql`${sql.ref(`${x}.low`)} >= ${shifted(floor, '-', '-infinity')} AND ${sql.ref(`${x}.high`)} <= ${shifted(ceiling, '+', 'infinity')}`
}

/**
 * Per prefix, which end of the search value every matching row's `high` is above (floor) and its
 * `low` below (ceiling), by the prefix's condition (params/date.ts); `ne` implies neither.
 */
const IMPLIED: Record<string, { readonly floor?: 'start' | 'end'; readonly ceiling?: 'start' | 'end' }> = {
  eq: { floor: 'start', ceiling: 'end' },
  ap: { floor: 'start', ceiling: 'end' },
  ge: { floor: 'start' },
  gt: { floor: 'end' },
  sa: { floor: 'end' },
  le: { ceiling: 'end' },
  lt: { ceiling: 'start' },
  eb: { ceiling: 'start' },
}

const floorOf = (clause: SearchClause) => loosest(clause, 'floor', Math.min)
const ceilingOf = (clause: SearchClause) => loosest(clause, 'ceiling', Math.max)

/** The bound of a clause: the loosest over its OR'ed values, if each value implies one. */
function loosest(clause: SearchClause, side: 'floor' | 'ceiling', pick: (...n: number[]) => number): Date | undefined {
  const each = clause.values.map((v) => {
    const end = v.kind === 'date' ? IMPLIED[v.prefix]?.[side] : undefined
    return v.kind === 'date' && end ? v[end] : undefined
  })
  if (!each.length || each.some((d) => d === undefined)) return undefined
  return new Date(pick(...each.map((d) => d!.getTime())))
}
