import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, linkPath, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** history — https://hl7.org/fhir/R4/http.html#history (instance, type, system; _since, _at, _count, paging) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


/** Writes `n` more versions of the Patient with PUT and returns every version, oldest first. */
async function updateTimes(tenant: TestTenant, v1: Patient, n: number): Promise<Patient[]> {
  const versions = [v1]
  for (let i = 0; i < n; i++) {
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, name: [{ family: `Name${i}` }] } })
    expect(res.statusCode, res.body).toBe(200)
    versions.push(resourceOf<Patient>(res))
  }
  return versions
}

async function history(tenant: TestTenant, path: string): Promise<Bundle> {
  const res = await tenant.request('GET', path)
  expect(res.statusCode, res.body).toBe(200)
  expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
  const bundle = resourceOf<Bundle>(res)
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' })
  return bundle
}

/** Follows `next` links from `path` to the end; returns every entry and the number of pages. */
async function followPages(tenant: TestTenant, path: string): Promise<{ entries: BundleEntry[]; pages: number; total: number | undefined }> {
  const entries: BundleEntry[] = []
  let next: string | undefined = path
  let pages = 0
  let total: number | undefined
  while (next) {
    const bundle = await history(tenant, next)
    total ??= bundle.total
    entries.push(...(bundle.entry ?? []))
    next = linkPath(bundle, 'next', tenant.tenantId)
    pages++
    expect(pages).toBeLessThan(50)
  }
  return { entries, pages, total }
}

const versionKey = (e: BundleEntry) => `${e.fullUrl}|${e.response?.etag}`

describe('instance history', () => {
  it('lists every version newest first with request, response and the resource', async () => {
    const tenant = await t.newTenant()
    const versions = await updateTimes(tenant, await createPatient(tenant), 2)
    const bundle = await history(tenant, `/Patient/${versions[0]!.id}/_history`)
    expect(bundle.total).toBe(3)
    expect(bundle.entry?.map((e) => e.resource)).toEqual([...versions].reverse())
    expect(bundle.entry?.map((e) => e.response?.etag)).toEqual(['W/"3"', 'W/"2"', 'W/"1"'])
    expect(bundle.entry?.map((e) => e.request?.method)).toEqual(['PUT', 'PUT', 'POST'])
    expect(bundle.entry?.[2]?.response?.status).toMatch(/^201/)
    expect(bundle.entry?.[0]?.response?.status).toMatch(/^200/)
    expect(bundle.entry?.[0]?.fullUrl).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${versions[0]!.id}`)
  })

  it('records a patch as a PATCH entry', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('PATCH', `/Patient/${v1.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'replace', path: '/active', value: false }],
    })
    const bundle = await history(tenant, `/Patient/${v1.id}/_history`)
    expect(bundle.entry?.map((e) => e.request?.method)).toEqual(['PATCH', 'POST'])
  })

  it('returns 404 for a resource that never existed', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/Patient/never/_history'), { status: 404, code: 'not-found' })
  })

  it('returns 404 with MSG_UNKNOWN_TYPE for an unknown resource type', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/Patients/x/_history'), { status: 404, code: 'not-found', messageId: 'MSG_UNKNOWN_TYPE' })
  })
})

describe('type history', () => {
  it('lists the versions of every resource of the type and nothing of other types', async () => {
    const tenant = await t.newTenant()
    const a = await createPatient(tenant)
    const b = await createPatient(tenant)
    await updateTimes(tenant, a, 1)
    await tenant.request('POST', '/Observation', { body: makeObservation() })
    const bundle = await history(tenant, '/Patient/_history')
    expect(bundle.total).toBe(3)
    expect(bundle.entry?.map((e) => `${e.resource?.id}/${e.resource?.meta?.versionId}`)).toEqual([`${a.id}/2`, `${b.id}/1`, `${a.id}/1`])
    expect(bundle.entry?.every((e) => e.resource?.resourceType === 'Patient')).toBe(true)
  })

  it('returns an empty history Bundle with total 0 and no entry for a type never written', async () => {
    const tenant = await t.newTenant()
    const bundle = await history(tenant, '/Observation/_history')
    expect(bundle.total).toBe(0)
    expect(bundle.entry).toBeUndefined()
  })
})

describe('system history', () => {
  it('lists versions of every type, including the tenant Organization written at tenant creation', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const observation = resourceOf(await tenant.request('POST', '/Observation', { body: makeObservation() }))
    const bundle = await history(tenant, '/_history')
    // The tenant also holds the AuditEvent of its test client's token (issue 5).
    expect(bundle.total).toBe(4)
    expect(bundle.entry?.filter((e) => e.resource?.resourceType !== 'AuditEvent').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)).toEqual([
      `Observation/${observation.id}`,
      `Patient/${patient.id}`,
      expect.stringMatching(/^Organization\//),
    ])
  })
})

describe('history with _since and _at', () => {
  it('_since returns only versions written at or after the instant', async () => {
    const tenant = await t.newTenant()
    const versions = await updateTimes(tenant, await createPatient(tenant), 3)
    const since = versions[2]!.meta!.lastUpdated!
    const bundle = await history(tenant, `/Patient/${versions[0]!.id}/_history?_since=${encodeURIComponent(since)}`)
    expect(bundle.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['4', '3'])
    expect(bundle.total).toBe(2)
  })

  it('_since in the future returns no entries', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const bundle = await history(tenant, `/Patient/${v1.id}/_history?_since=2999-01-01T00:00:00Z`)
    expect(bundle.total).toBe(0)
    expect(bundle.entry).toBeUndefined()
  })

  it('_at returns the version that was current at that instant', async () => {
    const tenant = await t.newTenant()
    const versions = await updateTimes(tenant, await createPatient(tenant), 2)
    const at = versions[1]!.meta!.lastUpdated!
    const bundle = await history(tenant, `/Patient/${versions[0]!.id}/_history?_at=${encodeURIComponent(at)}`)
    expect(bundle.entry?.map((e) => e.resource)).toEqual([versions[1]])
  })

  it('_at at type level returns, per resource, the version current then', async () => {
    const tenant = await t.newTenant()
    const a = await updateTimes(tenant, await createPatient(tenant), 1)
    const at = a[1]!.meta!.lastUpdated!
    await updateTimes(tenant, a[0]!, 1)
    const bundle = await history(tenant, `/Patient/_history?_at=${encodeURIComponent(at)}`)
    expect(bundle.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2'])
  })

  it('returns 400 naming _since when it is not a date', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await tenant.request('GET', '/_history?_since=yesterday'), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['_since'])
  })

  it('returns 400 naming _at when it is not a date', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await tenant.request('GET', '/Patient/_history?_at=2020-13'), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['_at'])
  })
})

describe('history paging with _count', () => {
  it('_count=2 pages the instance history; following next visits every version once', async () => {
    const tenant = await t.newTenant()
    const versions = await updateTimes(tenant, await createPatient(tenant), 6)
    const first = await history(tenant, `/Patient/${versions[0]!.id}/_history?_count=2`)
    expect(first.entry).toHaveLength(2)
    expect(first.total).toBe(7)
    expect(first.link?.map((l) => l.relation)).toEqual(expect.arrayContaining(['self', 'first', 'next']))
    const { entries, pages } = await followPages(tenant, `/Patient/${versions[0]!.id}/_history?_count=2`)
    expect(pages).toBe(4)
    expect(entries.map((e) => e.resource?.meta?.versionId)).toEqual(['7', '6', '5', '4', '3', '2', '1'])
  })

  it('the last page has no next link', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const bundle = await history(tenant, `/Patient/${v1.id}/_history?_count=5`)
    expect(bundle.link?.find((l) => l.relation === 'next')).toBeUndefined()
  })

  it('following system history next links returns each version exactly once, even with writes in between', async () => {
    const tenant = await t.newTenant()
    for (let i = 0; i < 4; i++) await updateTimes(tenant, await createPatient(tenant), 1)
    const firstPage = await history(tenant, '/_history?_count=3')
    const seen = (firstPage.entry ?? []).map(versionKey)
    await createPatient(tenant)
    const rest = await followPages(tenant, linkPath(firstPage, 'next', tenant.tenantId)!)
    // Leave out the AuditEvent of the test client's token (issue 5).
    const all = [...seen, ...rest.entries.map(versionKey)].filter((key) => !key.includes('/AuditEvent/'))
    expect(all).toHaveLength(9)
    expect(new Set(all).size).toBe(9)
  })

  it('type history gives the total on its first page only; instance history on every page', async () => {
    const tenant = await t.newTenant()
    const a = await createPatient(tenant)
    await updateTimes(tenant, a, 2)
    await createPatient(tenant)
    const first = await history(tenant, '/Patient/_history?_count=2')
    expect(first.total).toBe(4)
    const second = await history(tenant, linkPath(first, 'next', tenant.tenantId)!)
    expect(second.entry).toHaveLength(2)
    expect(second.total).toBeUndefined()
    const instanceFirst = await history(tenant, `/Patient/${a.id}/_history?_count=1`)
    const instanceSecond = await history(tenant, linkPath(instanceFirst, 'next', tenant.tenantId)!)
    expect([instanceFirst.total, instanceSecond.total]).toEqual([3, 3])
  })

  it('keeps _count and _since in the next link', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await updateTimes(tenant, v1, 3)
    const bundle = await history(tenant, `/Patient/_history?_count=1&_since=2000-01-01`)
    const next = new URL(bundle.link!.find((l) => l.relation === 'next')!.url!)
    expect(next.searchParams.get('_count')).toBe('1')
    expect(next.searchParams.get('_since')).toBe('2000-01-01')
  })

  it('returns 400 naming _count when it is not a number', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await tenant.request('GET', '/_history?_count=many'), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['_count'])
  })
})
