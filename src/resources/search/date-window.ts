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
    sql`coalesce((SELECT CASE WHEN d.max_span < 3e10 THEN ${at}::timestamptz ${sql.raw(sign)} d.max_span * interval '1 second' END FROM search_date_span d
      WHERE d.tenant_id = ${key.tenantId} AND d.resource_type = ${key.resourceType} AND d.param = ${key.param}), ${sql.lit(open)}::timestamptz)`
  return sql`${sql.ref(`${x}.low`)} >= ${shifted(floor, '-', '-infinity')} AND ${sql.ref(`${x}.high`)} <= ${shifted(ceiling, '+', 'infinity')}`
}

/** The instant every matching row's `high` is above (the lowest over the clause's OR'ed values), if each value implies one. */
function floorOf(clause: SearchClause): Date | undefined {
  return loosest(clause, (v) => {
    switch (v.prefix) {
      case 'eq': case 'ge': case 'ap': return v.start
      case 'gt': case 'sa': return v.end
      default: return undefined
    }
  }, Math.min)
}

/** The instant every matching row's `low` is below (the highest over the clause's OR'ed values), if each value implies one. */
function ceilingOf(clause: SearchClause): Date | undefined {
  return loosest(clause, (v) => {
    switch (v.prefix) {
      case 'eq': case 'le': case 'ap': return v.end
      case 'lt': case 'eb': return v.start
      default: return undefined
    }
  }, Math.max)
}

type DateValue = { prefix: string; start: Date; end: Date }

function loosest(clause: SearchClause, bound: (v: DateValue) => Date | undefined, pick: (...n: number[]) => number): Date | undefined {
  const each = clause.values.map((v) => (v.kind === 'date' ? bound(v) : undefined))
  if (!each.length || each.some((d) => d === undefined)) return undefined
  return new Date(pick(...each.map((d) => d!.getTime())))
}
