import type { Observation } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../setup/app.js'
import { expectOutcome } from '../../setup/outcome.js'
import { bearer, launch, newClinic, newPublicApp, newUser } from '../../http/smart-flow.js'
import { containedPatient, create, fullUrls, observationWith, urlOf } from './contained-fixture.js'

/**
 * `_contained` under an access policy: a container can belong to another patient whatever its
 * contained resource says, so a token limited to a patient compartment (or granular scopes) is
 * refused `_contained=true|both` with 403, while its default searches stay within its compartment.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function setup() {
  const clinic = await newClinic(t)
  const other = await create(clinic.tenant, { resourceType: 'Patient', name: [{ family: 'Otro' }] })
  // Another patient's Observation containing a Patient with the same id and name as the token's patient.
  const theirs = await create(clinic.tenant, {
    ...(observationWith(containedPatient(clinic.patient.id!, 'García')) as Observation),
    focus: [{ reference: `Patient/${other.id}` }],
    performer: [{ reference: `Patient/${other.id}` }],
  })
  const mine = await create(clinic.tenant, { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${clinic.patient.id}` } } as Observation)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
  const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
  const as = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token.access_token) })
  return { clinic, theirs, mine, as }
}

describe('search: _contained and access tokens', () => {
  it('refuses _contained=true|both to a patient token with 403 saying why', async () => {
    const { as } = await setup()
    for (const query of ['_contained=true', '_contained=both', 'family=García&_contained=true&_containedType=contained', '_contained=true&_count=0']) {
      const outcome = expectOutcome(await as(`/Patient?${query}`), { status: 403, code: 'forbidden' })
      expect(outcome.issue?.[0]?.diagnostics, query).toMatch(/_contained=true\|both is not available to an access token limited to a patient compartment/)
    }
  })

  it("keeps a patient token's default and chained searches to its compartment, containers of other patients included", async () => {
    const { as, clinic, mine } = await setup()
    const observations = await as('/Observation?_contained=false')
    expect(observations.statusCode, observations.body).toBe(200)
    expect(fullUrls(observations.json())).toEqual([urlOf(clinic.tenant, mine)])
    // The other patient's Observation contains a Patient named García; the chain must not reveal it.
    const chained = await as('/Observation?subject:Patient.family=García')
    expect(chained.statusCode, chained.body).toBe(200)
    expect(fullUrls(chained.json())).toEqual([urlOf(clinic.tenant, mine)])
  })

  it('gives a token for the whole tenant the contained matches of every patient', async () => {
    const { clinic, theirs } = await setup()
    const res = await clinic.tenant.request('GET', '/Patient?family=García&_contained=true')
    expect(res.statusCode, res.body).toBe(200)
    expect(fullUrls(res.json())).toEqual([urlOf(clinic.tenant, theirs)])
  })
})
