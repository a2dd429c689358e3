/**
 * Inputs of bench/ingest.ts: the Synthea 2.4 transaction bundles of shared/data, generated
 * 100-entry lab transactions, and generated NDJSON (a Patient then 9 Observations, repeated).
 */
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { gunzipSync } from 'node:zlib'

const LABS = [
  { code: '8867-4', display: 'Heart rate', unit: '/min', base: 60, spread: 40 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', base: 36, spread: 2 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', base: 50, spread: 50 },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', base: 70, spread: 80 },
  { code: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL', base: 140, spread: 120 },
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', base: 4, spread: 6 },
  { code: '2571-8', display: 'Triglyceride [Mass/volume] in Serum or Plasma', unit: 'mg/dL', base: 50, spread: 200 },
  { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%', base: 90, spread: 10 },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', base: 18, spread: 20 },
]

export interface SyntheaInput {
  readonly bundles: string[]
  /** Every entry resource as JSON text (what the baseline inserts). */
  readonly resources: string[]
}

export function syntheaBundles(dataDir: string, limit: number): SyntheaInput {
  const dir = join(dataDir, 'synthea', 'r4-synthea-2.4-transaction-bundles')
  const files = readdirSync(dir).filter((f) => f.endsWith('.json.gz')).sort().slice(0, limit)
  const bundles: string[] = []
  const resources: string[] = []
  for (const file of files) {
    const text = gunzipSync(readFileSync(join(dir, file))).toString('utf8')
    bundles.push(text)
    for (const entry of (JSON.parse(text) as { entry: { resource: unknown }[] }).entry) resources.push(JSON.stringify(entry.resource))
  }
  return { bundles, resources }
}

export function patient(k: number): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    id: `p-${k}`,
    identifier: [{ system: 'urn:bench:mrn', value: `mrn-${k}` }],
    active: true,
    name: [{ use: 'official', family: `Family${k % 997}`, given: [`Given${k % 89}`] }],
    gender: k % 2 ? 'female' : 'male',
    birthDate: `19${String(40 + (k % 60)).padStart(2, '0')}-0${1 + (k % 9)}-1${k % 10}`,
    address: [{ city: ['Rosario', 'Córdoba', 'Mendoza', 'Salta'][k % 4], country: 'AR' }],
  }
}

export function observation(k: number, j: number, subject: string): Record<string, unknown> {
  const lab = LABS[j % LABS.length]!
  const value = Math.round((lab.base + ((k * 7 + j * 13) % 100) / 100 * lab.spread) * 10) / 10
  return {
    resourceType: 'Observation',
    identifier: [{ system: 'urn:bench:obs', value: `obs-${k}-${j}` }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: lab.code, display: lab.display }], text: lab.display },
    subject: { reference: subject },
    effectiveDateTime: `2024-0${1 + (j % 9)}-1${k % 10}T0${j % 10}:15:00Z`,
    issued: `2024-0${1 + (j % 9)}-1${k % 10}T1${j % 10}:15:00.000Z`,
    valueQuantity: { value, unit: lab.unit, system: 'http://unitsofmeasure.org', code: lab.unit },
  }
}

/** `count` transaction bundles of 100 entries: a Patient (urn:uuid) and 99 Observations pointing at it. */
export function labTransactions(count: number, offset = 0): { bundles: string[]; resources: string[] } {
  const bundles: string[] = []
  const resources: string[] = []
  for (let b = 0; b < count; b++) {
    const k = offset + b
    const fullUrl = `urn:uuid:00000000-0000-4000-8000-${String(k).padStart(12, '0')}`
    const p = patient(k)
    delete p.id
    const entry = [{ fullUrl, resource: p, request: { method: 'POST', url: 'Patient' } }]
    for (let j = 0; j < 99; j++) entry.push({ fullUrl: `urn:uuid:${k}-${j}`, resource: observation(k, j, fullUrl), request: { method: 'POST', url: 'Observation' } })
    bundles.push(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }))
    for (const e of entry) resources.push(JSON.stringify(e.resource))
  }
  return { bundles, resources }
}

/** Writes `size` NDJSON lines (a Patient with an id, then 9 Observations with identifiers, repeated) to `path`. */
export async function writeNdjson(path: string, size: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1024 * 1024 })
  let chunk = ''
  for (let n = 0; n < size; n++) {
    const k = Math.floor(n / 10)
    const j = n % 10
    chunk += JSON.stringify(j === 0 ? patient(k) : observation(k, j - 1, `Patient/p-${k}`)) + '\n'
    if (chunk.length > 1024 * 1024) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'close')
}
