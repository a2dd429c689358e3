import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Patient } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type BulkWriteOutcome, type Repository } from '../../src/resources/index.js'
import type { Db } from '../../src/db/connect.js'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { freshTenantId, openTestDb } from '../setup/db.js'
import { PREPARED } from '../../src/db/prepared-statements.js'
import { PREPARED_BATCH_LIMIT } from '../../src/resources/bulk-sql.js'

/** Repository.writeMany: the multi-row write path of transaction Bundles and $import. */
describe('Repository.writeMany', () => {
  let db: Db
  let repo: Repository
  const statements: string[] = []

  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb({ onQuery: (e) => void statements.push(e.query.sql) })
    repo = createPgRepository({ db: db.db })
  })
  afterAll(() => db.close())

  const newScope = async () => {
    const tenantId = freshTenantId()
    await createTenantStore(db.db, repo).ensure(tenantId, 'Bulk clinic')
    statements.length = 0
    return { tenantId }
  }
  const ok = (o: BulkWriteOutcome | undefined) => {
    if (!o || o.status === 'failed') throw new Error(`expected a write, got ${o?.status === 'failed' ? o.error.message : 'nothing'}`)
    return o
  }

  /** Every index row of one resource, without its id, sorted: comparable across resources. */
  async function indexRowsOf(tenantId: string, type: string, id: string): Promise<string[]> {
    const tables = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri', 'search_sort']
    const rows: string[] = []
    for (const table of tables) {
      const { rows: found } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} WHERE tenant_id = ${tenantId} AND resource_type = ${type} AND id = ${id}`.execute(db.db)
      for (const row of found) {
        const { id: _id, tenant_id: _t, ...rest } = row
        rows.push(`${table} ${JSON.stringify(rest)}`)
      }
    }
    return rows.sort()
  }

  it('writes 3 new resources in ONE statement, with the same index rows as a single create', async () => {
    const scope = await newScope()
    const patient = makePatient({ identifier: [{ system: 'urn:mrn', value: 'A1' }], address: [{ city: 'Rosario' }] })
    const single = await repo.create(scope, patient)
    statements.length = 0
    const outcomes = await repo.writeMany(scope, [
      { mode: 'create', resource: patient },
      { mode: 'create', resource: makeObservation(), id: 'obs-1' },
      { mode: 'create', resource: makeObservation({ status: 'amended' }) },
    ])
    expect(statements).toHaveLength(1)
    expect(outcomes.map((o) => o.status)).toEqual(['created', 'created', 'created'])
    expect(ok(outcomes[1]).stored.id).toBe('obs-1')
    const bulkPatient = ok(outcomes[0]).stored
    expect(bulkPatient.versionId).toBe('1')
    expect(JSON.parse(bulkPatient.json)).toMatchObject({ id: bulkPatient.id, meta: { versionId: '1' }, identifier: [{ value: 'A1' }] })
    const indexed = await indexRowsOf(scope.tenantId, 'Patient', bulkPatient.id)
    expect(indexed.length).toBeGreaterThan(5)
    expect(indexed).toEqual(await indexRowsOf(scope.tenantId, 'Patient', single.stored.id))
    const history = await repo.history(scope, { resourceType: 'Observation', id: 'obs-1', count: 10 })
    expect(history.entries.map((e) => [e.versionId, e.method])).toEqual([['1', 'POST']])
    const found = await repo.search(scope, { resourceType: 'Patient', params: [['address-city', 'rosario']] })
    expect(found.entries.map((e) => e.id).sort()).toEqual([bulkPatient.id, single.stored.id].sort())
  })

  it('stores every body byte for byte through both bulk statements: quotes, backslashes, control characters, non-ASCII', async () => {
    const scope = await newScope()
    // (FHIR strings cannot hold other control characters: validation refuses them.)
    const awkward = ['say "hola"', 'C:\\temp\\x', 'tab\tnew\nline\r', 'Núñez 東京 👩‍⚕️', '{"a":[1,2]}', '\\u001e', '']
    const patients = awkward.map((text, i) => makePatient({ id: `q${i}`, name: [{ family: `F${i}`, ...(text ? { given: [text] } : {}) }] }))
    const stored = async (id: string) => (await db.db.selectFrom('resource').select('content').where('tenant_id', '=', scope.tenantId).where('id', '=', id).executeTakeFirstOrThrow()).content
    const created = await repo.writeMany(scope, patients.map((resource) => ({ mode: 'put' as const, resource })))
    expect(created.map((o) => o.status)).toEqual(awkward.map(() => 'created'))
    for (const [i, o] of created.entries()) {
      expect(await stored(`q${i}`)).toBe(ok(o).stored.json)
      expect(JSON.parse(ok(o).stored.json).name[0].given?.[0]).toBe(awkward[i] || undefined)
    }
    const updated = await repo.writeMany(scope, patients.map((p, i) => ({ mode: 'put' as const, resource: { ...p, gender: i % 2 ? 'male' : 'female' } as Patient })))
    expect(updated.map((o) => [o.status, ok(o).stored.versionId])).toEqual(awkward.map(() => ['updated', '2']))
    for (const [i, o] of updated.entries()) expect(await stored(`q${i}`)).toBe(ok(o).stored.json)
  })

  it('fails only the invalid item, naming the element, and writes the others', async () => {
    const scope = await newScope()
    const outcomes = await repo.writeMany(scope, [
      { mode: 'create', resource: makePatient({ name: [{ family: 'Valid' }] }) },
      { mode: 'create', resource: makePatient({ birthDate: 'yesterday' }) },
      { mode: 'create', resource: { resourceType: 'Nope' } as never },
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['created', 'failed', 'failed'])
    const bad = outcomes[1]!
    expect(bad.status === 'failed' && bad.error.kind).toBe('invalid')
    expect(bad.status === 'failed' && bad.error.issues[0]?.expression).toEqual(['Patient.birthDate'])
    expect(outcomes[2]!.status === 'failed' && outcomes[2]!.error.message).toMatch(/'Nope' is not a FHIR R4 resource type/)
    const all = await repo.search(scope, { resourceType: 'Patient', params: [] })
    expect(all.entries.map((e) => JSON.parse(e.json).name[0].family)).toEqual(['Valid'])
  })

  it('updates existing resources with put: version 2, history of both, old index rows gone', async () => {
    const scope = await newScope()
    await repo.update(scope, makePatient({ id: 'p1', name: [{ family: 'Before' }] }))
    const outcomes = await repo.writeMany(scope, [
      { mode: 'put', resource: makePatient({ id: 'p1', name: [{ family: 'After' }] }) },
      { mode: 'put', resource: makePatient({ id: 'p2', name: [{ family: 'New' }] }) },
    ])
    expect(outcomes.map((o) => [o.status, ok(o).stored.versionId])).toEqual([['updated', '2'], ['created', '1']])
    expect((await repo.search(scope, { resourceType: 'Patient', params: [['family', 'Before']] })).entries).toHaveLength(0)
    expect((await repo.search(scope, { resourceType: 'Patient', params: [['family', 'After']] })).entries.map((e) => e.id)).toEqual(['p1'])
    const history = await repo.history(scope, { resourceType: 'Patient', id: 'p1', count: 10 })
    expect(history.entries.map((e) => `${e.versionId} ${e.method}`)).toEqual(['2 PUT', '1 PUT'])
  })

  it('refuses a put whose ifMatch is not the current version (412) and a create whose id is taken (409)', async () => {
    const scope = await newScope()
    await repo.update(scope, makePatient({ id: 'p1' }))
    const outcomes = await repo.writeMany(scope, [
      { mode: 'put', resource: makePatient({ id: 'p1', gender: 'male' }), ifMatch: '7' },
      { mode: 'create', resource: makePatient(), id: 'p1' },
    ])
    expect(outcomes.map((o) => (o.status === 'failed' ? o.error.kind : o.status))).toEqual(['precondition-failed', 'conflict'])
    expect((await repo.read(scope, 'Patient', 'p1')).versionId).toBe('1')
  })

  describe('the import rule (mode identifier)', () => {
    const withMrn = (value: string, family: string, extra: Partial<Patient> = {}) =>
      makePatient({ identifier: [{ system: 'urn:mrn', value }], name: [{ family }], ...extra })

    it('updates the resource carrying the first identifier, leaves equal content unchanged, creates the unknown', async () => {
      const scope = await newScope()
      const first = await repo.writeMany(scope, [{ mode: 'identifier', resource: withMrn('1', 'Uno') }, { mode: 'identifier', resource: withMrn('2', 'Dos') }])
      expect(first.map((o) => o.status)).toEqual(['created', 'created'])
      const again = await repo.writeMany(
        scope,
        [
          { mode: 'identifier', resource: withMrn('1', 'Uno') },
          { mode: 'identifier', resource: withMrn('2', 'Dos cambiado') },
          { mode: 'identifier', resource: withMrn('3', 'Tres') },
        ],
        { skipUnchanged: true },
      )
      expect(again.map((o) => o.status)).toEqual(['unchanged', 'updated', 'created'])
      expect(ok(again[0]).stored.id).toBe(ok(first[0]).stored.id)
      expect(ok(again[1]).stored).toMatchObject({ id: ok(first[1]).stored.id, versionId: '2' })
      expect((await repo.search(scope, { resourceType: 'Patient', params: [] })).entries).toHaveLength(3)
    })

    it('writes two items with one identifier in one call as a create then an update of it', async () => {
      const scope = await newScope()
      const outcomes = await repo.writeMany(scope, [{ mode: 'identifier', resource: withMrn('9', 'First') }, { mode: 'identifier', resource: withMrn('9', 'Second') }])
      expect(outcomes.map((o) => o.status)).toEqual(['created', 'updated'])
      expect(ok(outcomes[1]).stored).toMatchObject({ id: ok(outcomes[0]).stored.id, versionId: '2' })
    })

    it('writes a resource without identifier match but with an id as update-as-create with that id', async () => {
      const scope = await newScope()
      const outcomes = await repo.writeMany(scope, [{ mode: 'identifier', resource: withMrn('5', 'Cinco', { id: 'given-id' }) }, { mode: 'identifier', resource: makePatient({ id: 'no-ident' }) }])
      expect(outcomes.map((o) => [o.status, ok(o).stored.id])).toEqual([['created', 'given-id'], ['created', 'no-ident']])
    })

    it('fails an item whose identifier is carried by two resources (412, multiple-matches)', async () => {
      const scope = await newScope()
      await repo.create(scope, withMrn('dup', 'A'))
      await repo.create(scope, withMrn('dup', 'B'))
      const [outcome] = await repo.writeMany(scope, [{ mode: 'identifier', resource: withMrn('dup', 'C') }])
      expect(outcome?.status === 'failed' && [outcome.error.kind, outcome.error.issues[0]?.code]).toEqual(['precondition-failed', 'multiple-matches'])
    })

    it('two concurrent transactions importing one identifier make one resource: created, then updated', async () => {
      const scope = await newScope()
      const write = (family: string) => repo.transaction(scope, (r) => r.writeMany(scope, [{ mode: 'identifier', resource: withMrn('same', family) }]))
      const [a, b] = await Promise.all([write('A'), write('B')])
      expect([a[0]!.status, b[0]!.status].sort()).toEqual(['created', 'updated'])
      expect(ok(a[0]).stored.id).toBe(ok(b[0]).stored.id)
      expect((await repo.search(scope, { resourceType: 'Patient', params: [['identifier', 'urn:mrn|same']] })).entries).toHaveLength(1)
    })

    it('never matches a resource of another tenant', async () => {
      const a = await newScope()
      const b = await newScope()
      const inA = ok((await repo.writeMany(a, [{ mode: 'identifier', resource: withMrn('x', 'A') }]))[0])
      const inB = ok((await repo.writeMany(b, [{ mode: 'identifier', resource: withMrn('x', 'A') }]))[0])
      expect(inB.status).toBe('created')
      expect(inB.stored.id).not.toBe(inA.stored.id)
    })
  })

  it('writes 1,100 creates in batches of 500: three INSERT statements', async () => {
    const scope = await newScope()
    const items = Array.from({ length: 1100 }, (_, i) => ({ mode: 'create' as const, resource: makePatient({ name: [{ family: `F${i}` }] }) }))
    const outcomes = await repo.writeMany(scope, items)
    expect(outcomes.every((o) => o.status === 'created')).toBe(true)
    expect(statements.filter((s) => s.startsWith('WITH input'))).toHaveLength(3)
    const total = await repo.search(scope, { resourceType: 'Patient', params: [['_summary', 'count']] })
    expect(total.total).toBe(1100)
  })

  it('runs small batches as the prepared statement and import-sized ones planned for their size, with the same rows', async () => {
    const scope = await newScope()
    const small = Array.from({ length: 3 }, (_, i) => ({ mode: 'create' as const, resource: makePatient({ name: [{ family: `Small${i}` }] }) }))
    const large = Array.from({ length: PREPARED_BATCH_LIMIT + 1 }, (_, i) => ({ mode: 'create' as const, resource: makePatient({ name: [{ family: `Large${i}` }] }) }))
    statements.length = 0
    expect((await repo.writeMany(scope, small)).every((o) => o.status === 'created')).toBe(true)
    expect(statements.filter((s) => s.startsWith(`${PREPARED}WITH input`))).toHaveLength(1)
    statements.length = 0
    expect((await repo.writeMany(scope, large)).every((o) => o.status === 'created')).toBe(true)
    expect(statements.filter((s) => s.startsWith('WITH input'))).toHaveLength(1)
    for (const [prefix, count] of [['Small', 3], ['Large', PREPARED_BATCH_LIMIT + 1]] as const) {
      const found = await repo.search(scope, { resourceType: 'Patient', params: [['family', prefix], ['_summary', 'count']] })
      expect(found.total).toBe(count)
    }
  })
})
