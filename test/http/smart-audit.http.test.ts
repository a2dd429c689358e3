import type { AuditEvent, Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRefusalAudit, withoutQueryValues } from '../../src/auth/refusal-audit.js'
import { makeObservation } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { bearer, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/**
 * Refusals on FHIR routes leave AuditEvents in the tenant (issue 5 item 7): a 401 for a bad
 * token (outcome 4), a 403 for a refused scope or access policy (outcome 8), rate-limited per
 * client or address so that a flood of bad tokens cannot flood the table.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp({ AUDIT_REFUSALS_PER_MINUTE: '3' })
})
afterAll(() => t.close())

let addressCounter = 0
/** Each test calls from its own address: the rate limit counts per address. */
const freshAddress = () => `10.9.${Math.floor(++addressCounter / 250)}.${(addressCounter % 250) + 1}`

async function auditEvents(tenant: TestTenant, query: string): Promise<AuditEvent[]> {
  const res = await tenant.request('GET', `/AuditEvent?${query}&_count=100`)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json<Bundle<AuditEvent>>().entry ?? []).map((e) => e.resource!)
}

describe('401 on a FHIR route', () => {
  it('writes an AuditEvent of type rest, outcome 4, with the address and the path without query values', async () => {
    const clinic = await newClinic(t)
    const address = freshAddress()
    const tampered = `${clinic.tenant.token.slice(0, -4)}AAAA`
    const res = await t.app.inject({
      method: 'GET',
      url: `/fhir/${clinic.tenant.tenantId}/Patient?name=Garc%C3%ADa&_count=5`,
      headers: bearer(tampered),
      remoteAddress: address,
    })
    expect(res.statusCode).toBe(401)
    const events = await auditEvents(clinic.tenant, `address=${address}`)
    expect(events).toHaveLength(1)
    const event = events[0]!
    expect(event.type).toMatchObject({ code: 'rest' })
    expect(event.action).toBe('R')
    expect(event.outcome).toBe('4')
    expect(event.outcomeDesc).toMatch(/^Unauthorized: /)
    expect(event.agent?.[0]?.network?.address).toBe(address)
    expect(event.entity?.[0]?.name).toBe(`GET /fhir/${clinic.tenant.tenantId}/Patient?name&_count`)
    expect(JSON.stringify(event)).not.toContain('Garc')
    expect(JSON.stringify(event)).not.toContain(tampered)
  })

  it('writes one for a missing token and none on public discovery paths', async () => {
    const clinic = await newClinic(t)
    const address = freshAddress()
    await t.app.inject({ method: 'DELETE', url: `/fhir/${clinic.tenant.tenantId}/Patient/${clinic.patient.id}`, remoteAddress: address })
    await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/metadata`, remoteAddress: address })
    const events = await auditEvents(clinic.tenant, `address=${address}`)
    expect(events.map((e) => [e.action, e.outcome, e.entity?.[0]?.name])).toEqual([['D', '4', `DELETE /fhir/${clinic.tenant.tenantId}/Patient/${clinic.patient.id}`]])
  })
})

describe('403 on a FHIR route', () => {
  it('names the client of a backend token refused by its scopes (outcome 8)', async () => {
    const clinic = await newClinic(t)
    const client = await t.services.auth.createClient(clinic.tenant.tenantId, { name: 'narrow', scope: 'system/Patient.rs' })
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', ...client }).toString(),
    })
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/Observation`, headers: bearer(token.json().access_token), remoteAddress: freshAddress() })
    expect(res.statusCode).toBe(403)
    const events = await auditEvents(clinic.tenant, 'outcome=8')
    expect(events).toHaveLength(1)
    expect(events[0]!.outcomeDesc).toMatch(/^Forbidden: Scope does not allow search on Observation/)
    expect(events[0]!.agent?.[1]?.who?.identifier).toEqual({ system: 'urn:segimed:oauth-client', value: client.client_id })
  })

  it("names the user of a patient token refused by the access policy", async () => {
    const clinic = await newClinic(t)
    const other = (await clinic.tenant.request('POST', '/Patient', { body: { resourceType: 'Patient', active: true } })).json()
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs patient/Observation.c', login: user.email })
    const res = await t.app.inject({
      method: 'POST',
      url: `/fhir/${clinic.tenant.tenantId}/Observation`,
      headers: { ...bearer(token.access_token), 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(makeObservation({ subject: { reference: `Patient/${other.id}` } })),
    })
    expect(res.statusCode).toBe(403)
    const events = await auditEvents(clinic.tenant, 'outcome=8')
    expect(events).toHaveLength(1)
    expect(events[0]!.action).toBe('C')
    expect(events[0]!.agent?.[0]?.who?.reference).toBe(`Patient/${clinic.patient.id}`)
    expect(events[0]!.agent?.[0]?.altId).toBe(user.accountId)
    expect(events[0]!.agent?.[1]?.who?.identifier?.value).toBe(clientId)
  })
})

describe('rate limit', () => {
  it('writes at most AUDIT_REFUSALS_PER_MINUTE events per address; another address has its own share', async () => {
    const clinic = await newClinic(t)
    const flood = freshAddress()
    for (let i = 0; i < 12; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/Patient`, headers: bearer(`bad.token.${i}`), remoteAddress: flood })
      expect(res.statusCode).toBe(401)
    }
    expect(await auditEvents(clinic.tenant, `address=${flood}`)).toHaveLength(3)
    const calm = freshAddress()
    await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/Patient`, headers: bearer('bad'), remoteAddress: calm })
    expect(await auditEvents(clinic.tenant, `address=${calm}`)).toHaveLength(1)
  })

  it('counts what it did not write and tells it in the next minute', async () => {
    const clinic = await newClinic(t)
    let now = new Date('2030-01-01T10:00:00Z')
    const audit = createRefusalAudit({ repo: t.services.repo, clock: () => now, log: { info: () => {}, warn: () => {} }, perMinute: 2 })
    const refusal = { tenantId: clinic.tenant.tenantId, status: 401 as const, method: 'GET', url: '/fhir/x/Patient', address: '10.1.1.1', detail: 'bad token' }
    for (let i = 0; i < 7; i++) await audit.record(refusal)
    now = new Date('2030-01-01T10:01:00Z')
    await audit.record(refusal)
    const events = await auditEvents(clinic.tenant, 'address=10.1.1.1&_sort=date')
    expect(events.map((e) => e.outcomeDesc)).toEqual([
      'Unauthorized: bad token',
      'Unauthorized: bad token',
      'Unauthorized: bad token (5 earlier refusals of this caller were not recorded: rate limit)',
    ])
  })
})

describe('withoutQueryValues', () => {
  it('keeps the parameter names and drops their values', () => {
    expect(withoutQueryValues('/fhir/t/Patient?name=Ana&access_token=secret&_count=5')).toBe('/fhir/t/Patient?name&access_token&_count')
    expect(withoutQueryValues('/fhir/t/Patient/1')).toBe('/fhir/t/Patient/1')
    expect(withoutQueryValues('/fhir/t/Patient?')).toBe('/fhir/t/Patient')
  })
})
