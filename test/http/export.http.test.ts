import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Group, Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'
import { ASYNC, download, exportAll, idsOf } from './export-flow.js'

/** Bulk Data $export (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off, status, manifest, files. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp({ JOB_MIN_POLL_MS: '0', BULK_DIR: mkdtempSync(join(tmpdir(), 'segimed-bulk-')) })
})
afterAll(() => t.close())

async function observation(tenant: TestTenant, patient: Patient | undefined, code = '8867-4'): Promise<Observation> {
  const body = makeObservation({
    code: { coding: [{ system: 'http://loinc.org', code }] },
    ...(patient ? { subject: { reference: `Patient/${patient.id}` } } : {}),
  })
  const res = await tenant.request('POST', '/Observation', { body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json<Observation>()
}

describe('system-level $export', () => {
  it('answers 202 + Content-Location, then a manifest whose NDJSON files hold every resource of the tenant', async () => {
    const tenant = await t.newTenant()
    const patients = [await createPatient(tenant), await createPatient(tenant, { name: [{ family: 'Pérez' }] })]
    const obs = [await observation(tenant, patients[0]), await observation(tenant, patients[1]), await observation(tenant, undefined)]
    const before = Date.now()
    const manifest = await exportAll(t, tenant, '/$export')

    expect(manifest.request).toBe(`http://fhir.test/fhir/${tenant.tenantId}/$export`)
    expect(manifest.requiresAccessToken).toBe(true)
    expect(Date.parse(manifest.transactionTime)).toBeLessThanOrEqual(Date.now())
    expect(Date.parse(manifest.transactionTime)).toBeGreaterThanOrEqual(before - 1000)
    expect(manifest.error).toEqual([])
    // The tenant's own Organization is tenant data too; so are the AuditEvents auth writes (token issued).
    expect(manifest.output.filter((o) => o.type !== 'AuditEvent').map((o) => [o.type, o.count])).toEqual([
      ['Observation', 3],
      ['Organization', 1],
      ['Patient', 2],
    ])
    const files = await download(tenant, manifest)
    expect(idsOf(files, 'Patient')).toEqual(patients.map((p) => p.id).sort())
    expect(idsOf(files, 'Observation')).toEqual(obs.map((o) => o.id).sort())
    expect(files.get('Patient')!.find((p) => p.id === patients[1]!.id)).toEqual(patients[1])
  })

  it('writes a type larger than one write chunk as whole lines, each resource exactly once', async () => {
    const tenant = await t.newTenant()
    const created: Observation[] = []
    for (let i = 0; i < 40; i++) {
      const body = makeObservation({ note: [{ text: `${i} ${'ñ'.repeat(2000)}` }] })
      const res = await tenant.request('POST', '/Observation', { body })
      expect(res.statusCode, res.body).toBe(201)
      created.push(res.json<Observation>())
    }
    const manifest = await exportAll(t, tenant, '/$export?_type=Observation')
    expect(manifest.output.map((o) => [o.type, o.count])).toEqual([['Observation', 40]])
    const files = await download(tenant, manifest)
    const byId = new Map(files.get('Observation')!.map((o) => [o.id, o]))
    expect(byId.size).toBe(40)
    for (const o of created) expect(byId.get(o.id)).toEqual(o)
  })

  it('takes its parameters from a POSTed Parameters resource too', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    await observation(tenant, patient)
    const manifest = await exportAll(t, tenant, '/$export', {
      body: { resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Patient' }, { name: '_outputFormat', valueString: 'application/fhir+ndjson' }] },
    })
    expect(manifest.output.map((o) => [o.type, o.count])).toEqual([['Patient', 1]])
  })

  it('_type limits the types; _since keeps resources last updated at or after it', async () => {
    const tenant = await t.newTenant()
    const early = await createPatient(tenant)
    await observation(tenant, early)
    const late = await createPatient(tenant, { name: [{ family: 'Tarde' }] })
    const lateObs = await observation(tenant, late)
    const since = late.meta!.lastUpdated!
    const manifest = await exportAll(t, tenant, `/$export?_type=Patient,Observation&_since=${encodeURIComponent(since)}`)
    const files = await download(tenant, manifest)
    expect(manifest.output.map((o) => o.type)).toEqual(['Patient', 'Observation'])
    expect(idsOf(files, 'Patient')).toEqual([late.id])
    expect(idsOf(files, 'Observation')).toEqual([lateObs.id])
  })

  it('_typeFilter keeps the resources matching any filter of their type, and leaves other types whole', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const heart = await observation(tenant, patient, '8867-4')
    const weight = await observation(tenant, patient, '29463-7')
    await observation(tenant, patient, '8310-5')
    const filter = encodeURIComponent('Observation?code=http://loinc.org|8867-4,Observation?code=29463-7')
    const manifest = await exportAll(t, tenant, `/$export?_type=Observation,Patient&_typeFilter=${filter}`)
    const files = await download(tenant, manifest)
    expect(idsOf(files, 'Observation')).toEqual([heart.id, weight.id].sort())
    expect(idsOf(files, 'Patient')).toEqual([patient.id])
  })

  it('leaves deleted resources out (test/resources/export-reader.int.test.ts checks the transactionTime snapshot)', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const manifest = await exportAll(t, tenant, '/$export?_type=Patient')
    const files = await download(tenant, manifest)
    expect(idsOf(files, 'Patient')).toEqual([patient.id])
    expect((await tenant.request('DELETE', `/Patient/${patient.id}`)).statusCode).toBe(204)
    expect((await exportAll(t, tenant, '/$export?_type=Patient')).output).toEqual([])
  })
})

describe('Patient and Group level $export', () => {
  async function clinic() {
    const tenant = await t.newTenant()
    const ana = await createPatient(tenant)
    const luis = await createPatient(tenant, { name: [{ family: 'Luis' }] })
    const anaObs = await observation(tenant, ana)
    const luisObs = await observation(tenant, luis)
    await observation(tenant, undefined)
    const practitioner = await tenant.request('POST', '/Practitioner', { body: { resourceType: 'Practitioner', name: [{ family: 'Médica' }] } })
    expect(practitioner.statusCode).toBe(201)
    return { tenant, ana, luis, anaObs, luisObs }
  }

  it('Patient/$export holds the Patient compartment of every patient, nothing outside it', async () => {
    const { tenant, ana, luis, anaObs, luisObs } = await clinic()
    const manifest = await exportAll(t, tenant, '/Patient/$export')
    const files = await download(tenant, manifest)
    expect(manifest.output.map((o) => o.type).sort()).toEqual(['Observation', 'Patient'])
    expect(idsOf(files, 'Patient')).toEqual([ana.id, luis.id].sort())
    expect(idsOf(files, 'Observation')).toEqual([anaObs.id, luisObs.id].sort())
  })

  it('Group/[id]/$export holds the compartments of the group members only', async () => {
    const { tenant, ana, anaObs } = await clinic()
    const group: Group = { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${ana.id}` } }] }
    const created = await tenant.request('POST', '/Group', { body: group })
    expect(created.statusCode, created.body).toBe(201)
    const manifest = await exportAll(t, tenant, `/Group/${created.json<Group>().id}/$export?_type=Patient,Observation`)
    const files = await download(tenant, manifest)
    expect(idsOf(files, 'Patient')).toEqual([ana.id])
    expect(idsOf(files, 'Observation')).toEqual([anaObs.id])
  })

  it('Group/[id]/$export of an unknown group is 404', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/Group/nope/$export', { headers: ASYNC }), { status: 404, code: 'not-found' })
  })

  it('a type outside the Patient compartment is a 400 naming _type', async () => {
    const { tenant } = await clinic()
    const res = await tenant.request('GET', '/Patient/$export?_type=Practitioner', { headers: ASYNC })
    expectOutcome(res, { status: 400, code: 'invalid', diagnostics: /_type names Practitioner, which is not in the Patient compartment/ })
  })
})

describe('$export kick-off errors', () => {
  const cases: [string, string, Record<string, string>, RegExp][] = [
    ['no Prefer: respond-async', '/$export', { accept: 'application/fhir+json' }, /Prefer: respond-async/],
    ['an unsupported _outputFormat', '/$export?_outputFormat=text/csv', ASYNC, /_outputFormat 'text\/csv' is not supported/],
    ['an unknown _type', '/$export?_type=Patient,Nope', ASYNC, /_type names 'Nope'/],
    ['an empty _type entry', '/$export?_type=Patient,', ASYNC, /_type has an empty entry/],
    ['a _since that is not an instant', '/$export?_since=yesterday', ASYNC, /_since 'yesterday' must be a FHIR instant/],
    ['a _since without a time zone', '/$export?_since=2024-01-01T00:00:00', ASYNC, /_since .* must be a FHIR instant/],
    ['a _typeFilter without a type', `/$export?_typeFilter=${encodeURIComponent('code=1')}`, ASYNC, /_typeFilter 'code=1' must be \[ResourceType\]\?/],
    ['a _typeFilter outside _type', `/$export?_type=Patient&_typeFilter=${encodeURIComponent('Observation?code=1')}`, ASYNC, /_typeFilter names Observation, which is not in _type/],
    ['a _typeFilter with an unknown parameter', `/$export?_typeFilter=${encodeURIComponent('Observation?colour=red')}`, ASYNC, /_typeFilter Observation\?…: .*colour/],
    ['a _typeFilter with a result parameter', `/$export?_typeFilter=${encodeURIComponent('Observation?_count=5')}`, ASYNC, /uses _count, which does not filter/],
    ['an unsupported parameter', '/$export?_elements=id', ASYNC, /parameter _elements is not supported/],
  ]
  it.each(cases)('%s is a 400 naming the parameter', async (_name, path, headers, diagnostics) => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', path, { headers }), { status: 400, code: /invalid|not-supported/, diagnostics })
  })

  it('$export on another type, or on a Patient instance, is 404', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    expectOutcome(await tenant.request('GET', '/Observation/$export', { headers: ASYNC }), { status: 404, code: 'not-found' })
    expectOutcome(await tenant.request('GET', `/Patient/${patient.id}/$export`, { headers: ASYNC }), { status: 404, code: 'not-found' })
  })
})
