import type { Bundle, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** Version-aware updates under concurrency — https://hl7.org/fhir/R4/http.html#concurrency */
const WRITERS = 20

let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


/** The whole instance history, oldest first. */
async function fullHistory(tenant: TestTenant, id: string): Promise<Bundle> {
  const res = await tenant.request('GET', `/Patient/${id}/_history?_count=100`)
  expect(res.statusCode).toBe(200)
  return resourceOf<Bundle>(res)
}

const marker = (writer: number) => [{ family: `Writer${writer}` }]

describe('concurrent update with If-Match', () => {
  it(`lets exactly one of ${WRITERS} PUTs with the same If-Match win; the others get 412`, async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const replies = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, name: marker(i) }, headers: { 'if-match': 'W/"1"' } }),
      ),
    )
    const winners = replies.filter((r) => r.statusCode === 200)
    const losers = replies.filter((r) => r.statusCode !== 200)
    expect(winners).toHaveLength(1)
    expect(winners[0]!.headers.etag).toBe('W/"2"')
    for (const loser of losers) expectOutcome(loser, { status: 412, code: 'conflict', messageId: 'MSG_VERSION_AWARE_CONFLICT' })
    const bundle = await fullHistory(tenant, v1.id!)
    expect(bundle.total).toBe(2)
    expect(bundle.entry?.[0]?.resource).toEqual(resourceOf(winners[0]!))
  })

  it(`${WRITERS} writers that re-read and retry on 412 each commit once, as versions 2..${WRITERS + 1}, all in the history`, async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const committed = await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const read = await tenant.request('GET', `/Patient/${v1.id}`)
          expect(read.statusCode).toBe(200)
          const current = resourceOf<Patient>(read)
          const put = await tenant.request('PUT', `/Patient/${v1.id}`, {
            body: { ...current, name: marker(writer) },
            headers: { 'if-match': String(read.headers.etag) },
          })
          if (put.statusCode === 200) return { writer, version: resourceOf<Patient>(put).meta!.versionId!, etag: put.headers.etag }
          expectOutcome(put, { status: 412, code: 'conflict' })
        }
        throw new Error(`writer ${writer} never committed`)
      }),
    )
    const versions = committed.map((c) => Number(c.version)).sort((a, b) => a - b)
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 2))
    for (const c of committed) expect(c.etag).toBe(`W/"${c.version}"`)

    const bundle = await fullHistory(tenant, v1.id!)
    expect(bundle.total).toBe(WRITERS + 1)
    const historyVersions = (bundle.entry ?? []).map((e) => e.resource?.meta?.versionId)
    expect(new Set(historyVersions).size).toBe(WRITERS + 1)
    // Each version in the history carries the change of the writer that committed it.
    const byVersion = new Map((bundle.entry ?? []).map((e) => [e.resource?.meta?.versionId, e.resource as Patient]))
    for (const c of committed) expect(byVersion.get(c.version)?.name).toEqual(marker(c.writer))
  })
})

describe('concurrent update without If-Match', () => {
  it(`lets all ${WRITERS} PUTs succeed with versions 2..${WRITERS + 1}, each once, all in the history`, async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const replies = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, name: marker(i) } })),
    )
    for (const r of replies) expect(r.statusCode, r.body).toBe(200)
    const versions = replies.map((r) => Number(resourceOf(r).meta?.versionId)).sort((a, b) => a - b)
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 2))
    expect(new Set(replies.map((r) => r.headers.etag)).size).toBe(WRITERS)

    const bundle = await fullHistory(tenant, v1.id!)
    expect(bundle.total).toBe(WRITERS + 1)
    expect(new Set(bundle.entry?.map((e) => e.resource?.meta?.versionId)).size).toBe(WRITERS + 1)
    const current = resourceOf<Patient>(await tenant.request('GET', `/Patient/${v1.id}`))
    expect(current.meta?.versionId).toBe(String(WRITERS + 1))
    expect(bundle.entry?.[0]?.resource).toEqual(current)
  })

  it('gives strictly increasing lastUpdated to consecutive versions', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await Promise.all(Array.from({ length: WRITERS }, (_, i) => tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, name: marker(i) } })))
    const bundle = await fullHistory(tenant, v1.id!)
    const times = (bundle.entry ?? []).map((e) => Date.parse(e.resource!.meta!.lastUpdated!)).reverse()
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!)
  })
})
