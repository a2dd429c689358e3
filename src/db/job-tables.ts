import type { ColumnType, Generated } from 'kysely'

/** Kysely table of migrations/0005_jobs.sql (asynchronous jobs); `Database` lists it. */

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
/** bigint columns arrive as strings from pg. */
type BigCount = ColumnType<string, number | string | undefined, number | string>

export type JobStatusCode = 'accepted' | 'in-progress' | 'completed' | 'failed' | 'cancelled'

export interface AsyncJobTable {
  tenant_id: string
  job_id: string
  kind: string
  status: Generated<JobStatusCode>
  owner: string
  request_url: string
  progress_done: BigCount
  progress_total: ColumnType<string | null, number | string | null | undefined, number | string | null>
  progress_message: string | null
  result: string | null
  error: string | null
  created_at: DefaultTimestamp
  started_at: NullableTimestamp
  heartbeat_at: DefaultTimestamp
  finished_at: NullableTimestamp
  last_polled_at: NullableTimestamp
}
