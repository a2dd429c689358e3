import type { Observation } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { entriesOf, expectOutcome } from '../setup/outcome.js'
import { bearer, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/**
 * A patient token sees only its patient's compartment (compartmentdefinition-patient); a
 * granular scope only the resources its query matches. Another patient's data answers exactly
 * like data that does not exist.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const VITALS = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }
const LAB = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }

async function setup() {
  const clinic = await newClinic(t)
  const other = (await clinic.tenant.request('POST', '/Patient', { body: makePatient({ name: [{ family: 'Otro' }] }) })).json()
  const obs = async (patientId: string, category = VITALS) =>
    (await clinic.tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${patientId}` }, category: [category] }) })).json<Observation>()
  const mine = await obs(clinic.patient.id!)
  const theirs = await obs(other.id)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
  const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs patient/Observation.cru', login: user.email })
  const as = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
    t.app.inject({
      method,
      url: `/fhir/${clinic.tenant.tenantId}${path}`,
      headers: { ...bearer(token.access_token), ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    })
  return { clinic, other, mine, theirs, obs, as, token }
}

describe('patient token: reads', () => {
  it('reads its own Patient and Observation', async () => {
    const { as, clinic, mine } = await setup()
    expect((await as('GET', `/Patient/${clinic.patient.id}`)).statusCode).toBe(200)
    expect((await as('GET', `/Observation/${mine.id}`)).statusCode).toBe(200)
  })

  it("answers 404, exactly as for an unknown id, for another patient's Patient and Observation", async () => {
    const { as, other, theirs } = await setup()
    const patient = expectOutcome(await as('GET', `/Patient/${other.id}`), { status: 404, code: 'not-found' })
    expect(patient.issue?.[0]?.diagnostics).toBe(`Resource Patient/${other.id} is not known`)
    expectOutcome(await as('GET', `/Observation/${theirs.id}`), { status: 404, code: 'not-found' })
    expectOutcome(await as('GET', `/Observation/${theirs.id}/_history/1`), { status: 404, code: 'not-found' })
    expectOutcome(await as('GET', `/Observation/${theirs.id}/_history`), { status: 404, code: 'not-found' })
  })

  it("answers 404 for another patient's deleted resource instead of 410", async () => {
    const { as, clinic, theirs } = await setup()
    expect((await clinic.tenant.request('DELETE', `/Observation/${theirs.id}`)).statusCode).toBe(204)
    expectOutcome(await as('GET', `/Observation/${theirs.id}`), { status: 404, code: 'not-found' })
  })

  it('searches only its own compartment', async () => {
    const { as, mine, theirs } = await setup()
    const res = await as('GET', '/Observation')
    expect(res.statusCode, res.body).toBe(200)
    const ids = entriesOf(res).map((e) => e.resource?.id)
    expect(ids).toContain(mine.id)
    expect(ids).not.toContain(theirs.id)
    const byId = await as('GET', `/Observation?_id=${theirs.id}`)
    expect(entriesOf(byId)).toHaveLength(0)
  })

  it('is refused a search of a type outside the patient compartment', async () => {
    const { as } = await setup()
    expectOutcome(await as('GET', '/Practitioner'), { status: 403, code: 'forbidden' })
  })

  it('sees only its own entries in type history', async () => {
    const { as, mine, theirs } = await setup()
    const res = await as('GET', '/Observation/_history')
    const ids = entriesOf(res).map((e) => e.resource?.id)
    expect(ids).toContain(mine.id)
    expect(ids).not.toContain(theirs.id)
    // No total: a count of the tenant's versions would reveal how many the token cannot see.
    expect(res.json<{ total?: number }>().total).toBeUndefined()
  })
})

describe('patient token: writes', () => {
  it('creates an Observation about itself', async () => {
    const { as, clinic } = await setup()
    const res = await as('POST', '/Observation', makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` } }))
    expect(res.statusCode, res.body).toBe(201)
  })

  it('is refused (403) an Observation about another patient, and nothing is stored', async () => {
    const { as, other, clinic } = await setup()
    const res = await as('POST', '/Observation', makeObservation({ subject: { reference: `Patient/${other.id}` }, id: undefined }))
    expectOutcome(res, { status: 403, code: 'forbidden' })
    const all = entriesOf(await clinic.tenant.request('GET', '/Observation'))
    expect(all).toHaveLength(2)
  })

  it("gets 404 updating another patient's Observation, and 403 moving its own to another patient", async () => {
    const { as, mine, theirs, other } = await setup()
    expectOutcome(await as('PUT', `/Observation/${theirs.id}`, { ...theirs, status: 'amended' }), { status: 404, code: 'not-found' })
    expectOutcome(await as('PUT', `/Observation/${mine.id}`, { ...mine, subject: { reference: `Patient/${other.id}` } }), { status: 403, code: 'forbidden' })
  })

  it('is refused by its scope a delete, whatever the owner', async () => {
    const { as, mine } = await setup()
    expectOutcome(await as('DELETE', `/Observation/${mine.id}`), { status: 403, code: 'forbidden' })
  })
})

describe('granular scopes', () => {
  async function granularClient(scope: string) {
    const clinic = await newClinic(t)
    const client = await t.services.auth.createClient(clinic.tenant.tenantId, { name: 'granular', scope })
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', ...client }).toString(),
    })
    expect(res.statusCode, res.body).toBe(200)
    const obs = async (category: typeof VITALS) =>
      (await clinic.tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` }, category: [category] }) })).json<Observation>()
    return { clinic, token: res.json().access_token as string, vital: await obs(VITALS), lab: await obs(LAB) }
  }

  it('reads and finds only Observations whose category matches system/Observation.rs?category=vital-signs', async () => {
    const { clinic, token, vital, lab } = await granularClient('system/Observation.rs?category=vital-signs')
    const get = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token) })
    expect((await get(`/Observation/${vital.id}`)).statusCode).toBe(200)
    expectOutcome(await get(`/Observation/${lab.id}`), { status: 404, code: 'not-found' })
    const ids = entriesOf(await get('/Observation')).map((e) => e.resource?.id)
    expect(ids).toEqual([vital.id])
  })

  it('matches system|code values and refuses to create outside the filter', async () => {
    const { clinic, token } = await granularClient('system/Observation.crs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs')
    const post = (category: typeof VITALS) =>
      t.app.inject({
        method: 'POST',
        url: `/fhir/${clinic.tenant.tenantId}/Observation`,
        headers: { ...bearer(token), 'content-type': 'application/fhir+json' },
        payload: JSON.stringify(makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` }, category: [category] })),
      })
    expect((await post(VITALS)).statusCode).toBe(201)
    expectOutcome(await post(LAB), { status: 403, code: 'forbidden' })
  })
})
