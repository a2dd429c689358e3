import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Patient } from '@medplum/fhirtypes'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository } from '../../src/resources/index.js'
import type { Db } from '../../src/db/connect.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

describe('PgRepository', () => {
  let db: Db
  let repo: Repository
  const statements: string[] = []
  let tenantId: string

  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb({ onQuery: (e) => void statements.push(e.query.sql) })
    repo = createPgRepository({ db: db.db })
  })
  afterAll(() => db.close())

  const newTenant = async () => {
    tenantId = freshTenantId()
    await createTenantStore(db.db, repo).ensure(tenantId, 'Test clinic')
    statements.length = 0
    return { tenantId }
  }
  const patient: Patient = { resourceType: 'Patient', name: [{ family: 'García' }], gender: 'female' }

  it('creates with one statement and reads with one statement', async () => {
    const scope = await newTenant()
    const { stored } = await repo.create(scope, patient)
    expect(statements).toHaveLength(1)
    statements.length = 0
    const read = await repo.read(scope, 'Patient', stored.id)
    expect(statements).toHaveLength(1)
    expect(read.json).toBe(stored.json)
  })

  it('updates with one read and one write statement', async () => {
    const scope = await newTenant()
    const { stored } = await repo.create(scope, patient)
    statements.length = 0
    const updated = await repo.update(scope, { ...patient, id: stored.id, gender: 'other' })
    expect(statements).toHaveLength(2)
    expect(updated.stored.versionId).toBe('2')
    expect(JSON.parse(updated.stored.json).meta.versionId).toBe('2')
  })

  it('leaves no current row when the history row of the same write fails', async () => {
    const scope = await newTenant()
    // A stray history row makes the history INSERT of version 1 violate its primary key.
    await db.db
      .insertInto('resource_history')
      .values({ tenant_id: scope.tenantId, resource_type: 'Patient', id: 'clash', version_id: 1, last_updated: new Date(), method: 'PUT', content: '{}' })
      .execute()
    await expect(repo.update(scope, { ...patient, id: 'clash' })).rejects.toThrow(/duplicate key/)
    const row = await db.db.selectFrom('resource').selectAll().where('tenant_id', '=', scope.tenantId).where('id', '=', 'clash').executeTakeFirst()
    expect(row).toBeUndefined()
  })

  it('keeps lastUpdated strictly increasing when the clock stalls', async () => {
    const frozen = new Date('2030-01-01T00:00:00.000Z')
    const stalled = createPgRepository({ db: db.db, clock: () => frozen })
    const scope = await newTenant()
    const v1 = await stalled.update(scope, { ...patient, id: 'frozen' })
    const v2 = await stalled.update(scope, { ...patient, id: 'frozen', gender: 'male' })
    expect(v1.stored.lastUpdated).toBe('2030-01-01T00:00:00.000Z')
    expect(v2.stored.lastUpdated).toBe('2030-01-01T00:00:00.001Z')
  })

  it('does not let one tenant read another tenant\'s resource', async () => {
    const a = await newTenant()
    const { stored } = await repo.create(a, patient)
    const b = await newTenant()
    await expect(repo.read(b, 'Patient', stored.id)).rejects.toMatchObject({ kind: 'not-found' })
    await expect(repo.read(a, 'Patient', stored.id)).resolves.toMatchObject({ id: stored.id })
  })
})
