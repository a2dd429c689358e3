import type { Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/connect.js'
import { createExportReader, createPgRepository, createTenantStore, loadFhirDefinitions, type ExportReader, type Repository } from '../../src/resources/index.js'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

/** $export's keyset reads: the transactionTime snapshot, _since, the Patient compartment, batching. */
let db: Db
let repo: Repository
let reader: ExportReader
let now = Date.parse('2025-03-01T10:00:00Z')
beforeAll(async () => {
  loadFhirDefinitions()
  db = await openTestDb({ poolSize: 2 })
  repo = createPgRepository({ db: db.db, clock: () => new Date((now += 1000)) })
  reader = createExportReader(db.db)
})
afterAll(() => db.close())

async function tenant() {
  const tenantId = freshTenantId('x')
  await createTenantStore(db.db, repo).ensure(tenantId, 'Export clinic')
  return { tenantId }
}

const all = async (q: Omit<Parameters<ExportReader['batch']>[0], 'limit' | 'after'>, limit = 1000) => {
  const out: string[] = []
  let after: string | undefined
  for (;;) {
    const batch = await reader.batch({ ...q, limit, after })
    out.push(...batch.rows.map((r) => JSON.parse(r.json).id as string))
    if (!batch.next) return out
    after = batch.next
  }
}

describe('export reader', () => {
  it('reads every resource as it was at `until`: later updates, creations and deletions do not show', async () => {
    const scope = await tenant()
    const changed = (await repo.create(scope, makePatient({ name: [{ family: 'Before' }] }))).stored
    const deleted = (await repo.create(scope, makePatient())).stored
    const until = new Date((now += 1000))
    await repo.update(scope, { ...(JSON.parse(changed.json) as Patient), name: [{ family: 'After' }] })
    await repo.delete(scope, 'Patient', deleted.id)
    const created = (await repo.create(scope, makePatient())).stored

    const { rows } = await reader.batch({ tenantId: scope.tenantId, resourceType: 'Patient', limit: 10, until })
    const byId = new Map(rows.map((r) => [r.id, JSON.parse(r.json) as Patient]))
    expect([...byId.keys()].sort()).toEqual([changed.id, deleted.id].sort())
    expect(byId.get(changed.id)!.name![0]!.family).toBe('Before')
    expect(byId.has(created.id)).toBe(false)
    // Read again now: the current state.
    const current = await all({ tenantId: scope.tenantId, resourceType: 'Patient', until: new Date((now += 1000)) })
    expect(current.sort()).toEqual([changed.id, created.id].sort())
  })

  it('pages by id in batches with no gaps or repeats, and applies _since', async () => {
    const scope = await tenant()
    const stored = []
    for (let i = 0; i < 7; i++) stored.push((await repo.create(scope, makePatient())).stored)
    const ids = stored.map((s) => s.id)
    const until = new Date((now += 1000))
    expect(await all({ tenantId: scope.tenantId, resourceType: 'Patient', until }, 3)).toEqual([...ids].sort())
    const since = new Date(stored[5]!.lastUpdated)
    const recent = await all({ tenantId: scope.tenantId, resourceType: 'Patient', until, since }, 2)
    expect(recent.length).toBe(2)
    expect(recent.sort()).toEqual(ids.slice(-2).sort())
  })

  it('restricts to the Patient compartment through the compartment parameters, of some or any patient', async () => {
    const scope = await tenant()
    const ana = (await repo.create(scope, makePatient())).stored.id
    const luis = (await repo.create(scope, makePatient())).stored.id
    const obs = async (o: Partial<Observation>) => (await repo.create(scope, makeObservation(o))).stored.id
    const anaSubject = await obs({ subject: { reference: `Patient/${ana}` } })
    const luisPerformer = await obs({ performer: [{ reference: `Patient/${luis}` }] })
    await obs({})
    const until = new Date((now += 1000))
    const q = (resourceType: string, patientIds?: string[]) => all({ tenantId: scope.tenantId, resourceType, until, compartment: { patientIds } })
    expect((await q('Observation')).sort()).toEqual([anaSubject, luisPerformer].sort())
    expect(await q('Observation', [ana])).toEqual([anaSubject])
    expect(await q('Patient', [luis])).toEqual([luis])
    expect((await q('Patient')).sort()).toEqual([ana, luis].sort())
    expect(await q('Organization')).toEqual([])
    expect(reader.compartmentTypes[0]).toBe('Patient')
    expect(reader.compartmentTypes).toContain('Observation')
    expect(reader.compartmentTypes).not.toContain('Practitioner')
  })
})
