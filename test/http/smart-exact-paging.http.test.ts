import type { Bundle, Observation } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { linkPath } from '../setup/outcome.js'
import { bearer, launch, newClinic, newPublicApp, newUser, type Clinic } from './smart-flow.js'

/**
 * Exact pages and totals under an access policy (issue 5): the token's patient compartment and
 * its granular scopes' queries go into the search itself, so a patient's `_count=10` pages are
 * full, `total` counts only what it may see, and paging links walk exactly its resources.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category'
const category = (code: string) => [{ coding: [{ system: CATEGORY, code }] }]

/** Creates Observations in one transaction; returns their ids. */
async function observations(clinic: Clinic, items: { patient: string; category: string }[]): Promise<string[]> {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: items.map((item) => ({
      request: { method: 'POST', url: 'Observation' },
      resource: makeObservation({ subject: { reference: `Patient/${item.patient}` }, category: category(item.category) }),
    })),
  }
  const res = await clinic.tenant.request('POST', '', { body: bundle })
  expect(res.statusCode, res.body).toBe(200)
  return (res.json<Bundle>().entry ?? []).map((e) => /Observation\/([^/]+)/.exec(e.response!.location!)![1]!)
}

/** Follows `next` links from `path`; returns each page's ids and the totals seen. */
async function walk(get: (path: string) => Promise<{ statusCode: number; body: string; json: <T>() => T }>, tenantId: string, path: string) {
  const pages: string[][] = []
  const totals: (number | undefined)[] = []
  let next: string | undefined = path
  while (next && pages.length < 20) {
    const res = await get(next)
    expect(res.statusCode, res.body).toBe(200)
    const bundle = res.json<Bundle<Observation>>()
    pages.push((bundle.entry ?? []).map((e) => e.resource!.id!))
    totals.push(bundle.total)
    for (const link of bundle.link ?? []) expect(link.url, 'links never show the policy parameters').not.toMatch(/compartment|category=vital/)
    next = linkPath(bundle, 'next', tenantId)
  }
  return { pages, totals, ids: pages.flat() }
}

describe('a patient token', () => {
  it('gets full pages of 10, total 30 and links that walk exactly its 30 Observations among 60', async () => {
    const clinic = await newClinic(t)
    const other = await createPatient(clinic.tenant, { name: [{ family: 'Otro' }] })
    const me = clinic.patient.id!
    // Interleaved, so every unrestricted page would hold both patients' data.
    const ids = await observations(clinic, Array.from({ length: 60 }, (_, i) => ({ patient: i % 2 === 0 ? me : other.id!, category: 'vital-signs' })))
    const mine = ids.filter((_, i) => i % 2 === 0)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${me}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const get = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token.access_token) })

    const { pages, totals, ids: seen } = await walk(get, clinic.tenant.tenantId, '/Observation?_count=10')
    expect(pages.map((p) => p.length)).toEqual([10, 10, 10])
    expect(totals).toEqual([30, 30, 30])
    expect([...seen].sort()).toEqual([...mine].sort())

    // Sorted, and with the client's own criteria AND-ed to the compartment.
    const sorted = await walk(get, clinic.tenant.tenantId, '/Observation?_count=10&_sort=-_lastUpdated&status=final')
    expect(sorted.pages.map((p) => p.length)).toEqual([10, 10, 10])
    expect(sorted.totals[0]).toBe(30)
    expect(new Set(sorted.ids)).toEqual(new Set(mine))
    const count = await get('/Observation?_summary=count')
    expect(count.json<Bundle>().total).toBe(30)
  })

  it('finds its own Patient, and only it, by a Patient search', async () => {
    const clinic = await newClinic(t)
    await createPatient(clinic.tenant, { name: [{ family: 'Otro' }] })
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/Patient`, headers: bearer(token.access_token) })
    const bundle = res.json<Bundle>()
    expect(bundle.total).toBe(1)
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual([clinic.patient.id])
  })
})

describe('a granular token', () => {
  async function granular(scope: string) {
    const clinic = await newClinic(t)
    const me = clinic.patient.id!
    const kinds = ['vital-signs', 'laboratory', 'imaging']
    const ids = await observations(clinic, Array.from({ length: 36 }, (_, i) => ({ patient: me, category: kinds[i % 3]! })))
    const client = await t.services.auth.createClient(clinic.tenant.tenantId, { name: 'granular', scope })
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', ...client }).toString(),
    })
    expect(res.statusCode, res.body).toBe(200)
    const token = res.json().access_token as string
    const get = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token) })
    const idsOf = (...wanted: string[]) => ids.filter((_, i) => wanted.includes(kinds[i % 3]!))
    return { clinic, get, idsOf }
  }

  it('pages exactly through the resources its query matches (12 of 36)', async () => {
    const { clinic, get, idsOf } = await granular('system/Observation.rs?category=vital-signs')
    const { pages, totals, ids } = await walk(get, clinic.tenant.tenantId, '/Observation?_count=5')
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2])
    expect(totals).toEqual([12, 12, 12])
    expect([...ids].sort()).toEqual(idsOf('vital-signs').sort())
  })

  it('ORs two granular grants for one type into one query (24 of 36)', async () => {
    const { clinic, get, idsOf } = await granular('system/Observation.rs?category=vital-signs system/Observation.rs?category=laboratory')
    const { pages, totals, ids } = await walk(get, clinic.tenant.tenantId, '/Observation?_count=10')
    expect(pages.map((p) => p.length)).toEqual([10, 10, 4])
    expect(totals[0]).toBe(24)
    expect([...ids].sort()).toEqual(idsOf('vital-signs', 'laboratory').sort())
  })

  it("keeps the client's own criteria: a category outside the scope finds nothing", async () => {
    const { get } = await granular('system/Observation.rs?category=vital-signs')
    const res = await get('/Observation?category=laboratory')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<Bundle>().total).toBe(0)
    const self = res.json<Bundle>().link?.find((l) => l.relation === 'self')?.url ?? ''
    expect(new URL(self).searchParams.getAll('category')).toEqual(['laboratory'])
  })
})
