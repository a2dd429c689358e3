import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'
import { exportAll, relative, settle } from './export-flow.js'
import { launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/**
 * $import (src/operations/import): NDJSON uploaded or named by URL, run as an async job, one
 * OperationOutcome per input with counts and every failed line.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp({ JOB_MIN_POLL_MS: '0', BULK_DIR: mkdtempSync(join(tmpdir(), 'segimed-bulk-')) })
})
afterAll(() => t.close())

const COUNTS_URL = 'https://segimed.health/fhir/StructureDefinition/import-counts'
const NDJSON = 'application/fhir+ndjson'

/** POSTs an upload (string or gzip bytes) to $import and returns the status path. */
async function upload(tenant: TestTenant, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/fhir/${tenant.tenantId}/$import`,
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': NDJSON, prefer: 'respond-async', ...headers },
    payload: body,
  })
  return res
}

async function importAndWait(tenant: TestTenant, body: string | Buffer, headers: Record<string, string> = {}): Promise<OperationOutcome[]> {
  const kickOff = await upload(tenant, body, headers)
  expect(kickOff.statusCode, kickOff.body).toBe(202)
  const done = await settle(t, tenant, relative(tenant, String(kickOff.headers['content-location'])))
  expect(done.statusCode, done.body).toBe(200)
  const bundle = done.json<Bundle>()
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' })
  return (bundle.entry ?? []).map((e) => e.resource as OperationOutcome)
}

function countsOf(outcome: OperationOutcome): Record<string, number | string> {
  const ext = outcome.extension?.find((e) => e.url === COUNTS_URL)
  return Object.fromEntries((ext?.extension ?? []).map((e) => [e.url, e.valueInteger ?? e.valueString ?? '']))
}

const failuresOf = (outcome: OperationOutcome) => outcome.issue.filter((i) => i.severity === 'error').map((i) => [i.location?.[0], i.diagnostics])

async function total(tenant: TestTenant, type: string): Promise<number> {
  const res = await tenant.request('GET', `/${type}?_summary=count`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>().total ?? -1
}

const lab = (n: number) => makePatient({ identifier: [{ system: 'urn:lab:mrn', value: `mrn-${n}` }], name: [{ family: `Lab${n}` }] })
const ndjson = (...lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n'

describe('$import of uploaded NDJSON', () => {
  it('imports the good lines and reports each bad one (bad JSON, unknown type, invalid resource) with its line number', async () => {
    const tenant = await t.newTenant()
    const body = ndjson(lab(1), '{"resourceType":"Patient", oops', { resourceType: 'Spaceship', id: 'x' }, lab(2), makePatient({ gender: 'robot' as never }), makeObservation({ id: 'o-1' }))
    const [outcome, ...more] = await importAndWait(tenant, body)
    expect(more).toHaveLength(0)
    expect(countsOf(outcome!)).toEqual({ input: 'upload', lines: 6, created: 3, updated: 0, unchanged: 0, failed: 3 })
    const failures = failuresOf(outcome!)
    expect(failures.map(([line]) => line)).toEqual(['line 2', 'line 3', 'line 5'])
    expect(failures[0]![1]).toMatch(/^line 2: Not valid JSON/)
    expect(failures[1]![1]).toMatch(/^line 3: Resource type 'Spaceship' is not a FHIR R4 resource type/)
    expect(failures[2]![1]).toMatch(/^line 5: .*gender/)
    expect(outcome!.issue[0]).toMatchObject({ severity: 'warning', code: 'informational' })
    expect(outcome!.issue[0]!.diagnostics).toMatch(/3 created, 0 updated, 0 unchanged, 3 failed\. Import rule: a resource whose first identifier/)
    expect(await total(tenant, 'Patient')).toBe(2)
    expect((await tenant.request('GET', '/Observation/o-1')).statusCode).toBe(200)
  })

  it('re-importing the same lines creates nothing new: identifiers and ids match, equal content stays unchanged', async () => {
    const tenant = await t.newTenant()
    const body = ndjson(lab(1), lab(2), makePatient({ id: 'by-id', name: [{ family: 'ById' }] }))
    const [first] = await importAndWait(tenant, body)
    expect(countsOf(first!)).toMatchObject({ created: 3, failed: 0 })
    const [second] = await importAndWait(tenant, body)
    expect(countsOf(second!)).toMatchObject({ created: 0, updated: 0, unchanged: 3, failed: 0 })
    const [third] = await importAndWait(tenant, ndjson(makePatient({ ...lab(2), gender: 'male' })))
    expect(countsOf(third!)).toMatchObject({ created: 0, updated: 1 })
    expect(await total(tenant, 'Patient')).toBe(3)
    const found = (await tenant.request('GET', '/Patient?identifier=urn:lab:mrn|mrn-2')).json<Bundle>()
    expect(found.entry?.map((e) => [(e.resource as Patient).gender, e.resource?.meta?.versionId])).toEqual([['male', '2']])
  })

  it('reads a gzip upload (Content-Encoding: gzip) and refuses another encoding with 415', async () => {
    const tenant = await t.newTenant()
    const [outcome] = await importAndWait(tenant, gzipSync(ndjson(lab(1), lab(2), lab(3))), { 'content-encoding': 'gzip' })
    expect(countsOf(outcome!)).toMatchObject({ lines: 3, created: 3 })
    const refused = await upload(tenant, 'x', { 'content-encoding': 'br' })
    expect(refused.statusCode, refused.body).toBe(415)
    expect(refused.json<OperationOutcome>().issue[0]?.diagnostics).toMatch(/Content-Encoding 'br' is not supported/)
  })

  it('keeps tenants apart: the same identifiers create in each tenant, and another tenant cannot poll the job', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    await importAndWait(a, ndjson(lab(1), lab(2)))
    const kickOff = await upload(b, ndjson(lab(1), lab(2)))
    const statusPath = relative(b, String(kickOff.headers['content-location']))
    expect((await a.request('GET', statusPath)).statusCode).toBe(404)
    const done = await settle(t, b, statusPath)
    const outcome = done.json<Bundle>().entry?.[0]?.resource as OperationOutcome
    expect(countsOf(outcome)).toMatchObject({ created: 2, updated: 0, unchanged: 0 })
    expect(await total(a, 'Patient')).toBe(2)
    expect(await total(b, 'Patient')).toBe(2)
  })
})

describe('$import of files named in a Parameters resource', () => {
  const parameters = (...inputs: { type?: string; url: string }[]) => ({
    resourceType: 'Parameters',
    parameter: [
      { name: 'inputFormat', valueCode: NDJSON },
      ...inputs.map((i) => ({ name: 'input', part: [...(i.type ? [{ name: 'type', valueCode: i.type }] : []), { name: 'url', valueUri: i.url }] })),
    ],
  })

  it('re-imports an $export of the same tenant: every resource unchanged, one outcome per file', async () => {
    const tenant = await t.newTenant()
    await importAndWait(tenant, ndjson(lab(1), lab(2), makeObservation({ id: 'o-1' })))
    const manifest = await exportAll(t, tenant, '/$export')
    const byType = Object.fromEntries(manifest.output.map((o) => [o.type, o.url]))
    const res = await tenant.request('POST', '/$import', {
      body: parameters({ type: 'Patient', url: byType.Patient! }, { type: 'Observation', url: byType.Observation! }),
      headers: { prefer: 'respond-async' },
    })
    expect(res.statusCode, res.body).toBe(202)
    const done = await settle(t, tenant, relative(tenant, String(res.headers['content-location'])))
    const outcomes = (done.json<Bundle>().entry ?? []).map((e) => countsOf(e.resource as OperationOutcome))
    expect(outcomes).toEqual([
      { input: byType.Patient, lines: 2, created: 0, updated: 0, unchanged: 2, failed: 0 },
      { input: byType.Observation, lines: 1, created: 0, updated: 0, unchanged: 1, failed: 0 },
    ])
  })

  it('fails the lines of another type than the input declares', async () => {
    const tenant = await t.newTenant()
    await importAndWait(tenant, ndjson(lab(1), makeObservation({ id: 'o-1' })))
    const manifest = await exportAll(t, tenant, '/$export?_type=Observation')
    const res = await tenant.request('POST', '/$import', { body: parameters({ type: 'Patient', url: manifest.output[0]!.url }) })
    const done = await settle(t, tenant, relative(tenant, String(res.headers['content-location'])))
    const outcome = done.json<Bundle>().entry?.[0]?.resource as OperationOutcome
    expect(failuresOf(outcome)).toEqual([['line 1', "line 1: resourceType 'Observation' is not the input's declared type 'Patient'"]])
  })

  it('answers 400 naming the input whose url is not a file of this tenant, and for a Parameters without input', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    await importAndWait(a, ndjson(lab(1)))
    const manifest = await exportAll(t, a, '/$export?_type=Patient')
    const foreign = await b.request('POST', '/$import', { body: parameters({ url: manifest.output[0]!.url.replace(a.tenantId, b.tenantId) }) })
    expect(foreign.statusCode, foreign.body).toBe(400)
    expect(foreign.json<OperationOutcome>().issue[0]?.diagnostics).toMatch(/^input 1: .*not known in this tenant/)
    const empty = await b.request('POST', '/$import', { body: { resourceType: 'Parameters', parameter: [{ name: 'inputFormat', valueCode: NDJSON }] } })
    expect(empty.statusCode).toBe(400)
    expect(empty.json<OperationOutcome>().issue[0]?.diagnostics).toMatch(/needs at least one input/)
  })

  it('refuses with 403 a patient token (the import rule matches across the tenant) and a token without the operation scope', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.*', login: user.email })
    const asPatient = await upload({ ...clinic.tenant, token: token.access_token }, ndjson(lab(1)))
    expectOutcome(asPatient, { status: 403, code: 'forbidden', diagnostics: /\$import needs a token without patient-compartment/ })
    const limited = await t.newTenant({ scope: 'system/Patient.*' })
    expectOutcome(await upload(limited, ndjson(lab(1))), { status: 403, code: 'forbidden' })
    expect(await total(limited, 'Patient')).toBe(0)
  })
})
