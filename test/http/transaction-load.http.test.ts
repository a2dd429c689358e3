import { readFileSync } from 'node:fs'
import { sharedData } from '../fixtures/shared-data.js'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Bundle, BundleEntry, Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf } from '../setup/outcome.js'

/**
 * Transactions at size and under contention — https://hl7.org/fhir/R4/http.html#transaction.
 * The figures (entries/s) go to stdout for the issue note.
 */
const SYNTHEA_DIR = sharedData('synthea/r4-synthea-2.4-transaction-bundles')

interface Manifest {
  bundles: { file: string; bundleType: string; entries: number; resourceCounts: Record<string, number> }[]
}

let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const transaction = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry })

async function totalOf(tenant: TestTenant, type: string): Promise<number> {
  const res = await tenant.request('GET', `/${type}?_count=0`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>().total ?? -1
}

describe('a 1,000-entry transaction', () => {
  it('creates 500 Patients and 500 Observations pointing at them, all 201, every reference rewritten', async () => {
    const tenant = await t.newTenant()
    const entries: BundleEntry[] = []
    for (let i = 0; i < 500; i++) {
      const fullUrl = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
      entries.push({ fullUrl, resource: makePatient({ name: [{ family: `Load${i}` }] }), request: { method: 'POST', url: 'Patient' } })
      entries.push({ resource: makeObservation({ subject: { reference: fullUrl } }), request: { method: 'POST', url: 'Observation' } })
    }
    const started = performance.now()
    const res = await tenant.request('POST', '', { body: transaction(entries), headers: { prefer: 'return=minimal' } })
    const seconds = (performance.now() - started) / 1000
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200)
    console.info(`[figure] 1,000-entry transaction: ${seconds.toFixed(2)} s (${Math.round(1000 / seconds)} entries/s)`)
    const results = entriesOf(res)
    expect(results).toHaveLength(1000)
    expect(results.every((e) => e.response?.status === '201 Created')).toBe(true)
    expect(await totalOf(tenant, 'Patient')).toBe(500)
    expect(await totalOf(tenant, 'Observation')).toBe(500)
    // Entry 1 is the Observation of entry 0's Patient.
    const pathOf = (fullUrl: string | undefined) => new URL(fullUrl ?? '').pathname.slice(`/fhir/${tenant.tenantId}/`.length)
    const observation = (await tenant.request('GET', `/${pathOf(results[1]!.fullUrl)}`)).json<Observation>()
    expect(observation.subject?.reference).toBe(pathOf(results[0]!.fullUrl))
  })
})

describe('concurrent transactions on the same resources', () => {
  const put = (p: Patient, family: string): BundleEntry => ({ resource: { ...p, name: [{ family }] }, request: { method: 'PUT', url: `Patient/${p.id}` } })
  const del = (p: Patient): BundleEntry => ({ request: { method: 'DELETE', url: `Patient/${p.id}` } })

  async function historyTotal(tenant: TestTenant, id: string): Promise<number> {
    return (await tenant.request('GET', `/Patient/${id}/_history?_count=0`)).json<Bundle>().total ?? -1
  }

  async function twoPatients(tenant: TestTenant): Promise<[Patient, Patient]> {
    const a = (await tenant.request('PUT', '/Patient/shared-a', { body: makePatient({ id: 'shared-a' }) })).json<Patient>()
    const b = (await tenant.request('PUT', '/Patient/shared-b', { body: makePatient({ id: 'shared-b' }) })).json<Patient>()
    return [a, b]
  }

  function expectNoServerError(replies: { statusCode: number; body: string }[]): number {
    const unexpected = replies.filter((r) => ![200, 409, 412].includes(r.statusCode))
    expect(unexpected.map((r) => `${r.statusCode} ${r.body.slice(0, 300)}`)).toEqual([])
    return replies.filter((r) => r.statusCode === 200).length
  }

  it('PUTs of the same two resources listed in opposite orders all commit (200) or conflict, never 500, and each commit adds one version to both', async () => {
    const tenant = await t.newTenant()
    const [a, b] = await twoPatients(tenant)
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => tenant.request('POST', '', { body: transaction(i % 2 ? [put(a, `T${i}`), put(b, `T${i}`)] : [put(b, `T${i}`), put(a, `T${i}`)]) })),
    )
    const committed = expectNoServerError(replies)
    expect(committed).toBeGreaterThan(0)
    expect(await historyTotal(tenant, 'shared-a')).toBe(1 + committed)
    expect(await historyTotal(tenant, 'shared-b')).toBe(1 + committed)
    // The last commit wrote both: they carry the same marker.
    const finalA = (await tenant.request('GET', '/Patient/shared-a')).json<Patient>()
    const finalB = (await tenant.request('GET', '/Patient/shared-b')).json<Patient>()
    expect(finalA.name).toEqual(finalB.name)
  })

  it('DELETE-then-PUT transactions that lock the two resources in opposite orders (a deadlock) are retried: 200 or 409, never 500, nothing half-written', async () => {
    const tenant = await t.newTenant()
    const [a, b] = await twoPatients(tenant)
    // T(odd) deletes a then writes b; T(even) deletes b then writes a: DELETE runs first, so the
    // locks are taken in opposite orders and PostgreSQL aborts one of each colliding pair (40P01).
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => tenant.request('POST', '', { body: transaction(i % 2 ? [put(b, `T${i}`), del(a)] : [put(a, `T${i}`), del(b)]) })),
    )
    expect(expectNoServerError(replies)).toBeGreaterThan(0)
    // Nothing half-written: the versions the committed transactions report (a DELETE of an
    // already deleted resource writes none) are exactly versions 2..n of each history.
    const reported: Record<string, number[]> = { 'shared-a': [], 'shared-b': [] }
    replies.forEach((reply, i) => {
      if (reply.statusCode !== 200) return
      const [first, second] = entriesOf(reply).map((e) => e.response?.etag)
      const [put, deleted] = i % 2 ? ['shared-b', 'shared-a'] : ['shared-a', 'shared-b']
      reported[put]!.push(Number(/\d+/.exec(first ?? '')?.[0]))
      if (second) reported[deleted]!.push(Number(/\d+/.exec(second)?.[0]))
    })
    for (const [id, versions] of Object.entries(reported)) {
      const total = await historyTotal(tenant, id)
      expect(versions.sort((x, y) => x - y)).toEqual(Array.from({ length: total - 1 }, (_, k) => k + 2))
    }
  })
})

describe('the Synthea 2.4 transaction bundles', () => {
  const manifest = JSON.parse(readFileSync(join(SYNTHEA_DIR, 'manifest.json'), 'utf8')) as Manifest
  const subset = process.env.SYNTHEA_FULL ? manifest.bundles : manifest.bundles.filter((_, i) => i % 10 === 0)

  it(`import ${subset.length} of ${manifest.bundles.length} bundles into a fresh tenant, every entry 201, per-type counts equal to manifest.json`, async () => {
    const tenant = await t.newTenant()
    const expected: Record<string, number> = {}
    for (const type of new Set(subset.flatMap((item) => Object.keys(item.resourceCounts)))) expected[type] = await totalOf(tenant, type)
    let entries = 0
    const started = performance.now()
    for (const item of subset) {
      const body = gunzipSync(readFileSync(join(SYNTHEA_DIR, item.file))).toString('utf8')
      const res = await tenant.request('POST', '', { body, headers: { prefer: 'return=minimal' } })
      expect(res.statusCode, `${item.file}: ${res.body.slice(0, 500)}`).toBe(200)
      const results = entriesOf(res)
      expect(results).toHaveLength(item.entries)
      expect(results.filter((e) => e.response?.status !== '201 Created')).toEqual([])
      for (const [type, n] of Object.entries(item.resourceCounts)) expected[type] = (expected[type] ?? 0) + n
      entries += item.entries
    }
    const seconds = (performance.now() - started) / 1000
    console.info(`[figure] Synthea 2.4: ${subset.length} bundles, ${entries} entries in ${seconds.toFixed(1)} s = ${Math.round(entries / seconds)} resources/s`)
    for (const [type, n] of Object.entries(expected)) expect(await totalOf(tenant, type), type).toBe(n)
  }, 600_000)
})
