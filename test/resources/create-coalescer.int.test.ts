import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, Patient } from '@medplum/fhirtypes'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository } from '../../src/resources/index.js'
import type { Db } from '../../src/db/connect.js'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

/** Group commit of concurrent plain creates (src/resources/create-coalescer.ts). */
describe('concurrent creates share statements', () => {
  let db: Db
  let repo: Repository
  const statements: string[] = []

  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb({ poolSize: 2, onQuery: (e) => void statements.push(e.query.sql) })
    repo = createPgRepository({ db: db.db })
  })
  afterAll(() => db.close())

  const newScope = async () => {
    const tenantId = freshTenantId('gc')
    await createTenantStore(db.db, repo).ensure(tenantId, 'Group commit clinic')
    statements.length = 0
    return { tenantId }
  }
  const resourceInserts = () => statements.filter((s) => /INSERT INTO resource \(/.test(s)).length

  it('writes 40 concurrent creates in fewer statements than creates, each with its own id, version 1 and content', async () => {
    const scope = await newScope()
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => repo.create(scope, makePatient({ name: [{ family: `Gc${i}` }] }))))
    expect(resourceInserts()).toBeLessThan(40)
    expect(resourceInserts()).toBeGreaterThan(0)
    expect(new Set(results.map((r) => r.stored.id)).size).toBe(40)
    for (const [i, r] of results.entries()) {
      expect(r.created).toBe(true)
      expect(r.stored.versionId).toBe('1')
      const read = JSON.parse((await repo.read(scope, 'Patient', r.stored.id)).json) as Patient
      expect(read.name?.[0]?.family).toBe(`Gc${i}`)
    }
    const page = await repo.search(scope, { resourceType: 'Patient', params: [['family', 'Gc1'], ['_count', '100']] })
    expect(page.total).toBe(11) // Gc1, Gc10..Gc19: the index rows were written with each resource
  })

  it('fails an invalid create alone: the others of its batch are written', async () => {
    const scope = await newScope()
    const bad = { resourceType: 'Observation', status: 'not-a-status', code: { text: 'x' } } as unknown as Observation
    const settled = await Promise.allSettled([
      ...Array.from({ length: 10 }, () => repo.create(scope, makeObservation())),
      repo.create(scope, bad),
      ...Array.from({ length: 10 }, () => repo.create(scope, makeObservation())),
    ])
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(20)
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    expect(failed).toHaveLength(1)
    expect(String((failed[0]!.reason as Error).message)).toMatch(/status/i)
    const page = await repo.search(scope, { resourceType: 'Observation', params: [['_count', '0']] })
    expect(page.total).toBe(20)
  })
})
