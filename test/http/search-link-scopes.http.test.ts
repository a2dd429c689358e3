import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'

/**
 * Chains and `_has` search another type: a token needs search scope on it too, or the matches would
 * reveal data of a type it may not read (issue 5: no side doors through chained and `_has` parameters).
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function setup() {
  const admin = await t.newTenant()
  const patient = await createPatient(admin, { name: [{ family: 'Secreto' }] })
  const obs = await admin.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${patient.id}` } }) })
  expect(obs.statusCode, obs.body).toBe(201)
  const client = (scope: string) => t.services.auth.createClient(admin.tenantId, { name: 'limited', scope })
  const tokenFor = async (scope: string) => {
    const c = await client(scope)
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, scope }).toString(),
    })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ access_token: string }>().access_token
  }
  const as = (token: string, path: string) => t.app.inject({ method: 'GET', url: `/fhir/${admin.tenantId}${path}`, headers: { authorization: `Bearer ${token}` } })
  return { patient, tokenFor, as }
}

describe('chained and _has parameters need scope on the types they pass through', () => {
  it('refuses a chain into Patient to a token with Observation scope only (403), and answers it with both scopes', async () => {
    const { tokenFor, as } = await setup()
    const narrow = await tokenFor('system/Observation.rs')
    expectOutcome(await as(narrow, '/Observation?subject:Patient.family=Secreto'), { status: 403, code: 'forbidden' })
    expect((await as(narrow, '/Observation?status=final')).statusCode).toBe(200)
    const both = await tokenFor('system/Observation.rs system/Patient.rs')
    const res = await as(both, '/Observation?subject:Patient.family=Secreto')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<Bundle>().entry).toHaveLength(1)
  })

  it('refuses _has:Observation to a token with Patient scope only (403), and answers it with both scopes', async () => {
    const { tokenFor, as, patient } = await setup()
    const narrow = await tokenFor('system/Patient.rs')
    expectOutcome(await as(narrow, '/Patient?_has:Observation:subject:status=final'), { status: 403, code: 'forbidden' })
    const both = await tokenFor('system/Observation.rs system/Patient.rs')
    const res = await as(both, '/Patient?_has:Observation:subject:status=final')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<Bundle>().entry?.map((e) => e.resource?.id)).toEqual([patient.id])
  })
})
