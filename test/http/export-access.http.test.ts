import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Observation } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'
import { ASYNC, download, exportAll, idsOf, kickOff, relative, settle } from './export-flow.js'
import { bearer, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/** Who may poll, cancel and download an export, and what a token may export. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp({ JOB_MIN_POLL_MS: '0', BULK_DIR: mkdtempSync(join(tmpdir(), 'segimed-bulk-')) })
})
afterAll(() => t.close())

describe('export jobs and files belong to their tenant and client', () => {
  it("another tenant's job and files are 404 both ways, with either tenant's token", async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    await createPatient(a)
    await createPatient(b)
    const aStatus = await kickOff(a, '/$export?_type=Patient')
    const bStatus = await kickOff(b, '/$export?_type=Patient')
    const aFile = relative(a, (await settle(t, a, aStatus)).json().output[0].url)
    const bFile = relative(b, (await settle(t, b, bStatus)).json().output[0].url)
    for (const [tenant, path] of [[b, aStatus], [b, aFile], [a, bStatus], [a, bFile]] as const) {
      expectOutcome(await tenant.request('GET', path), { status: 404, code: 'not-found' })
    }
    expectOutcome(await b.request('DELETE', aStatus), { status: 404, code: 'not-found' })
    // The owner still gets its own.
    expect((await a.request('GET', aFile)).statusCode).toBe(200)
  })

  it("another client of the same tenant cannot poll or download the job", async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const status = await kickOff(tenant, '/$export?_type=Patient')
    const file = relative(tenant, (await settle(t, tenant, status)).json().output[0].url)
    const other = await t.services.auth.createClient(tenant.tenantId, { name: 'other', scope: 'system/*.*' })
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', ...other }).toString(),
    })
    const headers = bearer(token.json().access_token)
    expectOutcome(await tenant.request('GET', status, { headers }), { status: 404, code: 'not-found' })
    expectOutcome(await tenant.request('GET', file, { headers }), { status: 404, code: 'not-found' })
  })

  it('a download or poll without a token is 401', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const status = await kickOff(tenant, '/$export?_type=Patient')
    const url = `/fhir/${tenant.tenantId}${relative(tenant, (await settle(t, tenant, status)).json().output[0].url)}`
    const file = await t.app.inject({ method: 'GET', url })
    expectOutcome(file, { status: 401, code: 'login' })
    expect(file.headers['www-authenticate']).toMatch(/^Bearer/)
    expectOutcome(await t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}${status}` }), { status: 401, code: 'login' })
  })

  it('an unknown job or file name is 404, a bad file name 400', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const status = await kickOff(tenant, '/$export?_type=Patient')
    await settle(t, tenant, status)
    expectOutcome(await tenant.request('GET', '/$job/00000000-0000-0000-0000-000000000000'), { status: 404, code: 'not-found' })
    expectOutcome(await tenant.request('GET', `${status}/file/Observation.ndjson`), { status: 404, code: 'not-found' })
    expectOutcome(await tenant.request('GET', `${status}/file/..Patient.ndjson`), { status: 400, code: 'invalid' })
  })
})

describe('status polling and cancel', () => {
  it('DELETE on the status URL answers 202; the job and its files are then 404', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const status = await kickOff(tenant, '/$export?_type=Patient')
    const file = relative(tenant, (await settle(t, tenant, status)).json().output[0].url)
    const res = await tenant.request('DELETE', status)
    expect(res.statusCode).toBe(202)
    expectOutcome(await tenant.request('GET', status), { status: 404, code: 'not-found', diagnostics: /cancelled/ })
    expectOutcome(await tenant.request('GET', file), { status: 404, code: 'not-found' })
    expectOutcome(await tenant.request('DELETE', status), { status: 404, code: 'not-found' })
  })

  it('a poll sooner than JOB_MIN_POLL_MS after the previous one is 429 with Retry-After', async () => {
    const slow = await buildTestApp({ JOB_MIN_POLL_MS: '60000', BULK_DIR: mkdtempSync(join(tmpdir(), 'segimed-bulk-')) })
    try {
      const tenant = await slow.newTenant()
      await createPatient(tenant)
      const status = await kickOff(tenant, '/$export?_type=Patient')
      await slow.services.jobs.settled(status.split('/')[2]!)
      const first = await tenant.request('GET', status)
      expect(first.statusCode, first.body).toBe(200)
      const second = await tenant.request('GET', status)
      expectOutcome(second, { status: 429, code: 'throttled', diagnostics: /wait 60 s/ })
      expect(second.headers['retry-after']).toBe('60')
    } finally {
      await slow.close()
    }
  })

  it('while running, a poll answers 202 with X-Progress and Retry-After', async () => {
    const tenant = await t.newTenant()
    // A job of this client that waits until released: the status of a running job, as HTTP shows it.
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const owner = await ownerOfTenantToken(tenant.tenantId, tenant.token)
    const jobId = await t.services.jobs.start(
      { tenantId: tenant.tenantId, owner },
      {
        kind: 'test',
        requestUrl: 'http://fhir.test/x',
        baseUrl: `http://fhir.test/fhir/${tenant.tenantId}`,
        async run({ progress }) {
          progress(5, 10, 'half way')
          await gate
          return { result: { done: true } }
        },
      },
    )
    await new Promise((r) => setTimeout(r, 600))
    const res = await tenant.request('GET', `/$job/${jobId}`)
    expect(res.statusCode, res.body).toBe(202)
    expect(res.headers['x-progress']).toBe('in-progress: half way; 5 of 10 done')
    expect(res.headers['retry-after']).toBe('1')
    release()
    await t.services.jobs.settled(jobId)
    const done = await tenant.request('GET', `/$job/${jobId}`)
    expect(done.statusCode).toBe(200)
    expect(done.json()).toEqual({ done: true })
  })
})

/** The job owner string the HTTP layer derives from a backend-services token (client id, no user). */
async function ownerOfTenantToken(tenantId: string, token: string): Promise<string> {
  const auth = await t.services.auth.verify(`Bearer ${token}`, tenantId)
  return [auth.clientId, '', ''].join('|')
}

describe('what a token may export', () => {
  it('a patient token exports its own compartment only, and only through Patient/$export', async () => {
    const clinic = await newClinic(t)
    const other = await createPatient(clinic.tenant, { name: [{ family: 'Otro' }] })
    const obs = async (patientId: string) =>
      (await clinic.tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${patientId}` } }) })).json<Observation>()
    const mine = await obs(clinic.patient.id!)
    await obs(other.id!)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const asPatient = { ...clinic.tenant, request: (method: 'GET' | 'DELETE', path: string, o: { headers?: Record<string, string> } = {}) => clinic.tenant.request(method, path, { headers: { ...bearer(token.access_token), ...o.headers } }) }

    expectOutcome(await asPatient.request('GET', '/$export', { headers: ASYNC }), { status: 403, code: 'forbidden', diagnostics: /Patient\/\$export/ })
    const manifest = await exportAll(t, asPatient, '/Patient/$export?_type=Patient,Observation')
    const files = await download(asPatient, manifest)
    expect(idsOf(files, 'Patient')).toEqual([clinic.patient.id])
    expect(idsOf(files, 'Observation')).toEqual([mine.id])
    // The integrator's token does not see the patient's job.
    expectOutcome(await clinic.tenant.request('GET', relative(clinic.tenant, manifest.output[0]!.url)), { status: 404, code: 'not-found' })
  })

  it('a system token needs read scope on every type it exports; without _type it gets the types it may read', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.read' })
    const res = await tenant.request('GET', '/$export?_type=Patient,Observation', { headers: ASYNC })
    expectOutcome(res, { status: 403, code: 'forbidden', diagnostics: /does not allow reading Observation/ })
    const seeded = await t.services.repo.create({ tenantId: tenant.tenantId }, makePatient())
    await t.services.repo.create({ tenantId: tenant.tenantId }, makeObservation({ subject: { reference: `Patient/${seeded.stored.id}` } }))
    const manifest = await exportAll(t, tenant, '/$export')
    expect(manifest.output.map((o) => [o.type, o.count])).toEqual([['Patient', 1]])
  })
})
