import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf, resourceOf } from '../setup/outcome.js'

/**
 * Conditional writes are safe under concurrency (issue 3 item 5): parallel conditional creates or
 * updates of one identifier make exactly ONE resource, over HTTP and in Bundles alike, because each
 * takes the same transaction-scoped advisory locks before it searches (src/resources/conditional.ts).
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const MRN = 'http://hospital.example.org/mrn'
const PARALLEL = 20
const withMrn = (value: string) => makePatient({ identifier: [{ system: MRN, value }] })
const ids = (responses: { json(): unknown }[]) => new Set(responses.map((r) => (r.json() as Patient).id))
const statuses = (codes: number[]) => codes.reduce<Record<number, number>>((acc, c) => ({ ...acc, [c]: (acc[c] ?? 0) + 1 }), {})
/** How many current Patients carry the identifier, by search. */
const countByIdentifier = async (tenant: TestTenant, value: string) =>
  (await tenant.request('GET', `/Patient?identifier=${MRN}|${value}&_count=0&_total=accurate`)).json<Bundle>().total

function conditionalCreateBundle(type: 'batch' | 'transaction', value: string): Bundle {
  const entry: BundleEntry = { resource: withMrn(value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|${value}` } }
  return { resourceType: 'Bundle', type, entry: [entry] }
}

describe('conditional create under concurrency', () => {
  it(`${PARALLEL} parallel creates with one If-None-Exist make one resource: one 201, the others 200 with it`, async () => {
    const tenant = await t.newTenant()
    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, () => tenant.request('POST', '/Patient', { body: withMrn('race-1'), headers: { 'if-none-exist': `identifier=${MRN}|race-1` } })),
    )
    expect(statuses(responses.map((r) => r.statusCode))).toEqual({ 201: 1, 200: PARALLEL - 1 })
    expect(ids(responses).size).toBe(1)
    expect(await countByIdentifier(tenant, 'race-1')).toBe(1)
  })

  it('different criteria that share the identifier serialise too (identifier=… vs identifier=…&active=true)', async () => {
    const tenant = await t.newTenant()
    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        tenant.request('POST', '/Patient', {
          body: withMrn('race-2'),
          headers: { 'if-none-exist': i % 2 ? `identifier=${MRN}|race-2` : `active=true&identifier=${MRN}|race-2` },
        }),
      ),
    )
    expect(statuses(responses.map((r) => r.statusCode))).toEqual({ 201: 1, 200: PARALLEL - 1 })
    expect(await countByIdentifier(tenant, 'race-2')).toBe(1)
  })

  it('transaction Bundles, batch Bundles and HTTP creates racing on one identifier make one resource', async () => {
    const tenant = await t.newTenant()
    const requests = Array.from({ length: PARALLEL }, (_, i) => {
      if (i % 3 === 0) return tenant.request('POST', '', { body: conditionalCreateBundle('transaction', 'race-3') })
      if (i % 3 === 1) return tenant.request('POST', '', { body: conditionalCreateBundle('batch', 'race-3') })
      return tenant.request('POST', '/Patient', { body: withMrn('race-3'), headers: { 'if-none-exist': `identifier=${MRN}|race-3` } })
    })
    const responses = await Promise.all(requests)
    for (const res of responses) expect(res.statusCode, res.body).toBeLessThan(300)
    const written = responses.map((res) => {
      const body = res.json<Bundle | Patient>()
      if (body.resourceType !== 'Bundle') return { status: res.statusCode, id: body.id }
      const [entry] = entriesOf(res)
      return { status: Number.parseInt(entry?.response?.status ?? '0', 10), id: entry?.resource?.id }
    })
    expect(written.filter((w) => w.status === 201)).toHaveLength(1)
    expect(new Set(written.map((w) => w.id)).size).toBe(1)
    expect(await countByIdentifier(tenant, 'race-3')).toBe(1)
  })
})

describe('conditional update under concurrency', () => {
  it(`${PARALLEL} parallel PUT Patient?identifier=… with no match create one resource and update it ${PARALLEL - 1} times`, async () => {
    const tenant = await t.newTenant()
    const responses = await Promise.all(Array.from({ length: PARALLEL }, () => tenant.request('PUT', `/Patient?identifier=${MRN}|race-4`, { body: withMrn('race-4') })))
    expect(statuses(responses.map((r) => r.statusCode))).toEqual({ 201: 1, 200: PARALLEL - 1 })
    expect(ids(responses).size).toBe(1)
    expect(await countByIdentifier(tenant, 'race-4')).toBe(1)
    const [id] = ids(responses)
    const current = await tenant.request('GET', `/Patient/${id}`)
    expect(resourceOf(current).meta?.versionId).toBe(String(PARALLEL))
  })

  it('a conditional update and conditional creates racing on one identifier make one resource', async () => {
    const tenant = await t.newTenant()
    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        i % 2
          ? tenant.request('PUT', `/Patient?identifier=${MRN}|race-5`, { body: withMrn('race-5') })
          : tenant.request('POST', '/Patient', { body: withMrn('race-5'), headers: { 'if-none-exist': `identifier=${MRN}|race-5` } }),
      ),
    )
    expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1)
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true)
    expect(await countByIdentifier(tenant, 'race-5')).toBe(1)
  })
})
