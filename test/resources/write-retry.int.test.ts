import { sql } from 'kysely'
import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/connect.js'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository } from '../../src/resources/index.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

/**
 * A write outside a transaction can be the victim PostgreSQL picks to break a deadlock: it queued
 * for a row that two transaction Bundles locked in opposite orders (seen under 24 concurrent
 * clients mixing PUT, conditional deletes and transaction Bundles: one 500 in 30,000 requests).
 * The statement wrote nothing, so the repository retries it. The deadlock is real PostgreSQL error
 * 40P01, raised here by a trigger on this test's tenant only, for its first `failures` writes.
 */
describe('a write chosen as a deadlock victim', () => {
  let db: Db
  let repo: Repository
  let tenantId: string

  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb()
    repo = createPgRepository({ db: db.db })
    tenantId = freshTenantId('deadlock-victim')
    await createTenantStore(db.db, repo).ensure(tenantId, 'Deadlock clinic')
    // The count of attempts is a sequence: nextval survives the rollback of the statement it failed.
    await sql`CREATE TABLE IF NOT EXISTS test_deadlock_victim (tenant_id text PRIMARY KEY, failures int NOT NULL)`.execute(db.db)
    await sql`CREATE SEQUENCE IF NOT EXISTS test_deadlock_attempts`.execute(db.db)
    await sql
      .raw(
        `CREATE OR REPLACE FUNCTION test_deadlock_victim() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('test_deadlock_attempts') <= (SELECT failures FROM test_deadlock_victim WHERE tenant_id = NEW.tenant_id) THEN
            RAISE EXCEPTION 'deadlock detected (test)' USING ERRCODE = '40P01';
          END IF;
          RETURN NEW;
        END $$`,
      )
      .execute(db.db)
    await sql.raw(`CREATE TRIGGER test_deadlock_victim BEFORE INSERT OR UPDATE ON resource FOR EACH ROW WHEN (NEW.tenant_id = '${tenantId}') EXECUTE FUNCTION test_deadlock_victim()`).execute(db.db)
  })

  afterAll(async () => {
    await sql`DROP TRIGGER IF EXISTS test_deadlock_victim ON resource`.execute(db.db)
    await sql`DROP TABLE IF EXISTS test_deadlock_victim`.execute(db.db)
    await sql`DROP SEQUENCE IF EXISTS test_deadlock_attempts`.execute(db.db)
    await db.close()
  })

  const failNext = async (failures: number) => {
    await sql`INSERT INTO test_deadlock_victim VALUES (${tenantId}, ${failures}) ON CONFLICT (tenant_id) DO UPDATE SET failures = EXCLUDED.failures`.execute(db.db)
    await sql`SELECT setval('test_deadlock_attempts', 1, false)`.execute(db.db)
  }
  const patient = (family: string): Patient => ({ resourceType: 'Patient', id: 'victim', name: [{ family }] })

  it('retries an update, a create with an id and a delete, and writes each once', async () => {
    const scope = { tenantId }
    await failNext(2)
    const created = await repo.update(scope, patient('Uno'))
    expect(created.stored.versionId).toBe('1')
    await failNext(1)
    const updated = await repo.update(scope, patient('Dos'))
    expect(updated.stored.versionId).toBe('2')
    expect(JSON.parse((await repo.read(scope, 'Patient', 'victim')).json).name).toEqual([{ family: 'Dos' }])
    await failNext(1)
    expect(await repo.delete(scope, 'Patient', 'victim')).toEqual({ versionId: '3' })
    const history = await repo.history(scope, { resourceType: 'Patient', id: 'victim', count: 10 })
    expect(history.entries.map((e) => [e.versionId, e.deleted])).toEqual([
      ['3', true],
      ['2', false],
      ['1', false],
    ])
  })

  it('still fails inside a transaction, for the transaction to be re-run whole', async () => {
    const scope = { tenantId }
    await failNext(1)
    const runs: number[] = []
    await repo.transaction(scope, async (trx) => {
      runs.push(runs.length + 1)
      await trx.update(scope, patient(`Tres ${runs.length}`))
    })
    expect(runs).toEqual([1, 2])
    expect(JSON.parse((await repo.read(scope, 'Patient', 'victim')).json).name).toEqual([{ family: 'Tres 2' }])
  })
})
