import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/connect.js'
import { PlannerStatistics } from '../../src/resources/planner-statistics.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

/** The background ANALYZE that keeps search plans sane right after bulk ingest (planner-statistics.ts). */
let db: Db
const statements: string[] = []
beforeAll(async () => {
  db = await openTestDb({ poolSize: 1, onQuery: (e) => statements.push(e.query.sql) })
})
afterAll(() => db.close())

const analyzeCount = () => statements.filter((s) => s.startsWith('ANALYZE')).length

describe('PlannerStatistics', () => {
  it('runs no ANALYZE below the threshold, one once writes pass it, and none again before enough new writes', async () => {
    const stats = new PlannerStatistics(db.db, { minRows: 100, growth: 0, minIntervalMs: 0 })
    stats.noteWrites(60)
    await stats.settled()
    expect(analyzeCount()).toBe(0)
    stats.noteWrites(60)
    await stats.settled()
    expect(analyzeCount()).toBe(1)
    expect(statements.find((s) => s.startsWith('ANALYZE'))).toMatch(/"resource", "search_string", "search_token", "search_reference"/)
    stats.noteWrites(99)
    await stats.settled()
    expect(analyzeCount()).toBe(1)
    stats.noteWrites(1)
    await stats.settled()
    expect(analyzeCount()).toBe(2)
  })

  it('waits for growth relative to the stored resources, and for the minimum interval', async () => {
    // At least one stored resource, so the growth rule has something to multiply.
    const tenantId = freshTenantId('stats')
    await sql`INSERT INTO tenant (tenant_id, name, organization_id) VALUES (${tenantId}, 'stats', 'org')`.execute(db.db)
    await sql`INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content) VALUES (${tenantId}, 'Basic', 'b1', 1, now(), '{}')`.execute(db.db)
    statements.length = 0
    const stats = new PlannerStatistics(db.db, { minRows: 1, growth: 1e9, minIntervalMs: 0 })
    stats.noteWrites(1)
    await stats.settled()
    expect(analyzeCount()).toBe(1)
    // Now the threshold is 1e9 x the stored resources (the test database holds some): not reached.
    stats.noteWrites(10_000)
    await stats.settled()
    expect(analyzeCount()).toBe(1)
    const slow = new PlannerStatistics(db.db, { minRows: 1, growth: 0, minIntervalMs: 60_000 })
    slow.noteWrites(1)
    await slow.settled()
    slow.noteWrites(1)
    await slow.settled()
    expect(analyzeCount()).toBe(2)
  })
})
