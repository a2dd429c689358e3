import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Bundle, Encounter, Reference } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedData } from '../fixtures/shared-data.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf } from '../setup/outcome.js'

/**
 * Current Synthea output (shared/data/synthea/r4-synthea-3.x-conditional-refs): two batch bundles
 * of Organizations, Locations and Practitioners with `ifNoneExist`, then patient transactions whose
 * references are conditional (`Practitioner?identifier=...`), loaded in the order the data's README
 * gives. Expected counts come from its manifest.json.
 */
const DIR = sharedData('synthea/r4-synthea-3.x-conditional-refs')

interface ManifestBundle {
  file: string
  bundleType: 'batch' | 'transaction'
  entries: number
  resourceCounts: Record<string, number>
  conditionalCreates: number
  conditionalReferences: number
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { bundles: ManifestBundle[] }
const byFile = (name: string) => manifest.bundles.find((b) => b.file === name)!
const hospital = byFile('hospitalInformation.json.gz')
const practitioners = byFile('practitionerInformation.json.gz')
const patients = manifest.bundles.filter((b) => b.bundleType === 'transaction')

let t: TestApp
let tenant: TestTenant
/** Per-type totals before the import: a new tenant already holds its own Organization. */
const before = new Map<string, number>()
beforeAll(async () => {
  t = await buildTestApp()
  tenant = await t.newTenant()
  for (const type of new Set(manifest.bundles.flatMap((b) => Object.keys(b.resourceCounts)))) before.set(type, await totalOf(type))
})
afterAll(() => t.close())

async function post(item: ManifestBundle) {
  const body = gunzipSync(readFileSync(join(DIR, item.file))).toString('utf8')
  const res = await tenant.request('POST', '', { body, headers: { prefer: 'return=minimal' } })
  expect(res.statusCode, `${item.file}: ${res.body.slice(0, 500)}`).toBe(200)
  const results = entriesOf(res)
  expect(results).toHaveLength(item.entries)
  return results.map((e) => e.response?.status ?? '')
}

async function totalOf(type: string): Promise<number> {
  const res = await tenant.request('GET', `/${type}?_count=0`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>().total ?? -1
}

const sum = (items: ManifestBundle[], type: string) => items.reduce((n, b) => n + (b.resourceCounts[type] ?? 0), 0)
/** What a type's total should be: what was there before, plus `n` imported. */
const expected = (type: string, n: number) => (before.get(type) ?? 0) + n

describe.sequential('Synthea 3.x: batch bundles with conditional creates, then transactions with conditional references', () => {
  it('loads hospitalInformation then practitionerInformation: every entry 201 the first time', async () => {
    expect((await post(hospital)).filter((s) => s !== '201 Created')).toEqual([])
    expect((await post(practitioners)).filter((s) => s !== '201 Created')).toEqual([])
    for (const type of ['Organization', 'Location', 'Practitioner', 'PractitionerRole']) {
      expect(await totalOf(type), type).toBe(expected(type, sum([hospital, practitioners], type)))
    }
  }, 300_000)

  it('re-posting the batch bundles creates nothing new where the entries are conditional (ifNoneExist): 200 for each', async () => {
    const again = await post(hospital)
    expect(again.filter((s) => s !== '200 OK')).toEqual([])
    const practitionerAgain = await post(practitioners)
    // practitionerInformation's PractitionerRole entries are plain POSTs without ifNoneExist: by the
    // FHIR rules (http.html#create) each one creates a new resource; only the conditional ones dedupe.
    const body = JSON.parse(gunzipSync(readFileSync(join(DIR, practitioners.file))).toString('utf8')) as Bundle
    const conditional = (body.entry ?? []).map((e) => Boolean(e.request?.ifNoneExist))
    expect(practitionerAgain.filter((s, i) => conditional[i] && s !== '200 OK')).toEqual([])
    expect(practitionerAgain.filter((s, i) => !conditional[i] && s !== '201 Created')).toEqual([])
    for (const type of ['Organization', 'Location', 'Practitioner']) expect(await totalOf(type), type).toBe(expected(type, sum([hospital, practitioners], type)))
    expect(await totalOf('PractitionerRole')).toBe(expected('PractitionerRole', 2 * sum([practitioners], 'PractitionerRole')))
  }, 300_000)

  it('loads the patient transactions: every entry 201, every conditional reference resolved, counts per type equal to manifest.json', async () => {
    for (const item of patients) expect((await post(item)).filter((s) => s !== '201 Created')).toEqual([])
    const patientTypes = new Set(patients.flatMap((b) => Object.keys(b.resourceCounts)))
    for (const type of patientTypes) {
      const batchPart = type === 'PractitionerRole' ? 2 * sum([practitioners], type) : sum([hospital, practitioners], type)
      expect(await totalOf(type), type).toBe(expected(type, sum(patients, type) + batchPart))
    }
    // Conditional references became literal references to the resources the batches created.
    const res = await tenant.request('GET', '/Encounter?_count=50')
    const encounters = res.json<Bundle<Encounter>>().entry!.map((e) => e.resource!)
    expect(encounters.length).toBeGreaterThan(0)
    const refs: Reference[] = encounters.flatMap((e) => [e.serviceProvider, ...(e.participant ?? []).map((p) => p.individual), ...(e.location ?? []).map((l) => l.location)]).filter((r): r is NonNullable<typeof r> => Boolean(r)) as Reference[]
    expect(refs.length).toBeGreaterThan(encounters.length)
    for (const ref of refs) {
      expect(ref.reference, JSON.stringify(ref)).toMatch(/^(Organization|Practitioner|Location)\/[A-Za-z0-9\-.]{1,64}$/)
    }
    for (const ref of new Set(refs.map((r) => r.reference!))) expect((await tenant.request('GET', `/${ref}`)).statusCode, ref).toBe(200)
  }, 600_000)
})
