import type { Observation } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { bearer, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/**
 * Conditional interactions under a patient token: the criteria only ever match resources the
 * token may see (the guarded repository filters the search), so another patient's resource is
 * neither changed nor revealed; a conditional create or update that would write outside the
 * compartment is refused like a plain one.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const LAB = 'http://lab.example.org/results'

async function setup() {
  const clinic = await newClinic(t)
  const other = resourceOf(await clinic.tenant.request('POST', '/Patient', { body: makePatient({ name: [{ family: 'Otro' }] }) }))
  const observation = async (subject: string, code: string) =>
    resourceOf<Observation>(
      await clinic.tenant.request('POST', '/Observation', {
        body: makeObservation({ subject: { reference: `Patient/${subject}` }, identifier: [{ system: LAB, value: code }] }),
      }),
    )
  const mine = await observation(clinic.patient.id!, 'mine-1')
  const theirs = await observation(other.id!, 'theirs-1')
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
  const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs patient/Observation.cru', login: user.email })
  const as = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({
      method,
      url: `/fhir/${clinic.tenant.tenantId}${path}`,
      headers: { ...bearer(token.access_token), ...(body ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    })
  const own = (code: string, overrides: Partial<Observation> = {}) =>
    makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` }, identifier: [{ system: LAB, value: code }], ...overrides })
  return { clinic, other, mine, theirs, as, own }
}

describe('conditional interactions with a patient token', () => {
  it("a conditional update whose criteria select another patient's resource does not touch it: it creates in the token's compartment", async () => {
    const { as, own, clinic, theirs } = await setup()
    const res = await as('PUT', `/Observation?identifier=${LAB}|theirs-1`, own('theirs-1'))
    expect(res.statusCode, res.body).toBe(201)
    const created = resourceOf<Observation>(res)
    expect(created.id).not.toBe(theirs.id)
    expect(created.subject?.reference).toBe(`Patient/${clinic.patient.id}`)
    const untouched = await clinic.tenant.request('GET', `/Observation/${theirs.id}`)
    expect(untouched.headers.etag).toBe('W/"1"')
  })

  it("a conditional update that would write into another patient's compartment is refused (403) and writes nothing", async () => {
    const { as, other, clinic, theirs } = await setup()
    const body = makeObservation({ subject: { reference: `Patient/${other.id}` }, identifier: [{ system: LAB, value: 'theirs-1' }], status: 'amended' })
    expectOutcome(await as('PUT', `/Observation?identifier=${LAB}|theirs-1`, body), { status: 403, code: 'forbidden' })
    expect(resourceOf<Observation>(await clinic.tenant.request('GET', `/Observation/${theirs.id}`)).status).toBe('final')
  })

  it('a conditional update of its own resource updates it', async () => {
    const { as, own, mine } = await setup()
    const res = await as('PUT', `/Observation?identifier=${LAB}|mine-1`, own('mine-1', { status: 'amended' }))
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf<Observation>(res)).toMatchObject({ id: mine.id, status: 'amended', meta: { versionId: '2' } })
  })

  it("a conditional patch aimed at another patient's resource answers 404, as if nothing matched", async () => {
    const { as, clinic, theirs } = await setup()
    const res = await as('PATCH', `/Observation?identifier=${LAB}|theirs-1`, [{ op: 'replace', path: '/status', value: 'cancelled' }], {
      'content-type': 'application/json-patch+json',
    })
    expectOutcome(res, { status: 404, code: 'not-found' })
    expect(resourceOf<Observation>(await clinic.tenant.request('GET', `/Observation/${theirs.id}`)).status).toBe('final')
  })

  it("a conditional create does not match (nor reveal) another patient's resource", async () => {
    const { as, own, theirs } = await setup()
    const res = await as('POST', '/Observation', own('theirs-1'), { 'if-none-exist': `identifier=${LAB}|theirs-1` })
    expect(res.statusCode, res.body).toBe(201)
    expect(resourceOf(res).id).not.toBe(theirs.id)
  })

  it('a conditional create matching its own resource answers 200 with it', async () => {
    const { as, own, mine } = await setup()
    const res = await as('POST', '/Observation', own('mine-1'), { 'if-none-exist': `identifier=${LAB}|mine-1` })
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf(res).id).toBe(mine.id)
  })

  it('a conditional delete needs the delete scope (403 for patient/Observation.cru)', async () => {
    const { as, clinic, mine } = await setup()
    expectOutcome(await as('DELETE', `/Observation?identifier=${LAB}|mine-1`), { status: 403, code: 'forbidden' })
    expect((await clinic.tenant.request('GET', `/Observation/${mine.id}`)).statusCode).toBe(200)
  })
})
