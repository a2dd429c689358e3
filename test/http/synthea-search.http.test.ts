import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedData } from '../fixtures/shared-data.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf } from '../setup/outcome.js'

/**
 * Searches over imported Synthea 2.4 bundles whose expected counts come from the data's own
 * manifest.json (issue 3: "an import of the Synthea bundles followed by searches whose expected
 * counts come from the manifest.json files"), not from what the server answers.
 */
const DIR = sharedData('synthea/r4-synthea-2.4-transaction-bundles')

interface PatientInfo {
  family: string
  given: string[]
  gender: string
  birthDate: string
  identifiers: [string, string][]
}
interface ManifestBundle {
  file: string
  entries: number
  resourceCounts: Record<string, number>
  patient?: PatientInfo
  observationCodeCounts?: Record<string, number>
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { bundles: ManifestBundle[] }
// Eight patients spread over the set: enough for shared names and codes, quick to load.
const loaded = manifest.bundles.filter((b) => b.patient).filter((_, i) => i % 12 === 0)

let t: TestApp
let tenant: TestTenant
/** Server id of each loaded bundle's Patient. */
const patientIds = new Map<ManifestBundle, string>()
/** Per-type totals before the import: a new tenant already holds its own Organization. */
const before = new Map<string, number>()

beforeAll(async () => {
  t = await buildTestApp()
  tenant = await t.newTenant()
  for (const type of new Set(loaded.flatMap((b) => Object.keys(b.resourceCounts)))) before.set(type, await total(type))
  for (const item of loaded) {
    const bundle = JSON.parse(gunzipSync(readFileSync(join(DIR, item.file))).toString('utf8')) as Bundle
    const res = await tenant.request('POST', '', { body: JSON.stringify(bundle), headers: { prefer: 'return=minimal' } })
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
    const index = bundle.entry!.findIndex((e) => e.resource?.resourceType === 'Patient')
    const location = entriesOf(res)[index]!.response!.location!
    patientIds.set(item, /Patient\/([^/]+)/.exec(location)![1]!)
  }
}, 600_000)
afterAll(() => t.close())

async function total(query: string): Promise<number> {
  const started = performance.now()
  const res = await tenant.request('GET', `/${query}${query.includes('?') ? '&' : '?'}_total=accurate&_count=0`)
  expect(res.statusCode, `${query}: ${res.body.slice(0, 300)}`).toBe(200)
  const ms = performance.now() - started
  if (ms > 500) console.info(`[slow] ${query}: ${ms.toFixed(0)} ms`)
  return res.json<Bundle>().total ?? -1
}

const enc = encodeURIComponent
const countWhere = (f: (p: PatientInfo) => boolean) => loaded.filter((b) => f(b.patient!)).length

describe.sequential(`searches over ${loaded.length} imported Synthea 2.4 patients, counts from manifest.json`, () => {
  it('counts every resource type as the manifest does', async () => {
    const types = new Set(loaded.flatMap((b) => Object.keys(b.resourceCounts)))
    for (const type of types) expect(await total(type), type).toBe(before.get(type)! + loaded.reduce((n, b) => n + (b.resourceCounts[type] ?? 0), 0))
  })

  it('finds each patient by identifier, family name, given name, birthdate and gender', async () => {
    for (const item of loaded) {
      const p = item.patient!
      for (const [system, value] of p.identifiers) expect(await total(`Patient?identifier=${enc(`${system}|${value}`)}`), value).toBe(1)
      expect(await total(`Patient?family:exact=${enc(p.family)}`)).toBe(countWhere((q) => q.family === p.family))
      expect(await total(`Patient?given=${enc(p.given[0]!)}`)).toBe(countWhere((q) => q.given.some((g) => g.toLowerCase().startsWith(p.given[0]!.toLowerCase()))))
      expect(await total(`Patient?birthdate=${p.birthDate}`)).toBe(countWhere((q) => q.birthDate === p.birthDate))
      expect(await total(`Patient?birthdate=${p.birthDate.slice(0, 4)}`)).toBe(countWhere((q) => q.birthDate.startsWith(p.birthDate.slice(0, 4))))
    }
    for (const gender of ['male', 'female']) expect(await total(`Patient?gender=${gender}`), gender).toBe(countWhere((q) => q.gender === gender))
  })

  it("counts each patient's Observations per LOINC code, and each patient's Encounters", async () => {
    for (const item of loaded) {
      const id = patientIds.get(item)!
      for (const [code, n] of Object.entries(item.observationCodeCounts ?? {}).slice(0, 8)) {
        expect(await total(`Observation?subject=Patient/${id}&code=${enc(code)}`), code).toBe(n)
      }
      expect(await total(`Encounter?patient=${id}`)).toBe(item.resourceCounts.Encounter ?? 0)
      expect(await total(`Observation?patient=Patient/${id}`)).toBe(item.resourceCounts.Observation ?? 0)
    }
  }, 120_000)

  it('counts Observations per code over every loaded patient', async () => {
    const codes = new Map<string, number>()
    for (const item of loaded) for (const [code, n] of Object.entries(item.observationCodeCounts ?? {})) codes.set(code, (codes.get(code) ?? 0) + n)
    for (const [code, n] of [...codes].slice(0, 15)) expect(await total(`Observation?code=${enc(code)}`), code).toBe(n)
  }, 120_000)

  it('answers chained and reverse-chained searches with the manifest counts', async () => {
    for (const item of loaded.slice(0, 4)) {
      const [system, value] = item.patient!.identifiers[0]!
      const [code, n] = Object.entries(item.observationCodeCounts ?? {})[0]!
      expect(await total(`Observation?subject:Patient.identifier=${enc(`${system}|${value}`)}&code=${enc(code)}`), code).toBe(n)
      const withCode = loaded.filter((b) => (b.observationCodeCounts ?? {})[code]).length
      expect(await total(`Patient?_has:Observation:subject:code=${enc(code)}`), code).toBe(withCode)
    }
  }, 120_000)
})
