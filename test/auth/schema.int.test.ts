import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/connect.js'
import { openTestDb } from '../setup/db.js'

/** migrations/0003_smart_auth.sql: tenant tables keyed on tenant_id first; secrets never stored raw. */
describe('SMART auth schema', () => {
  let db: Db
  beforeAll(async () => {
    db = await openTestDb({ poolSize: 1 })
  })
  afterAll(() => db.close())

  it('keys every tenant-scoped auth table on tenant_id first', async () => {
    const tables = ['membership', 'authorization_code', 'refresh_token', 'launch_context', 'used_jti', 'revoked_token']
    const { rows } = await sql<{ table_name: string; first: string }>`
      SELECT c.relname AS table_name, a.attname AS first
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE i.indisprimary AND c.relname = ANY(${tables})`.execute(db.db)
    expect(rows.map((r) => r.table_name).sort()).toEqual([...tables].sort())
    expect(new Set(rows.map((r) => r.first))).toEqual(new Set(['tenant_id']))
  })

  it('refuses a membership role outside the five roles', async () => {
    await expect(sql`INSERT INTO membership (tenant_id, account_id, role) VALUES ('x', 'y', 'god')`.execute(db.db)).rejects.toThrow()
  })
})
