/**
 * What extracting a resource's index rows costs the server's main thread, in a tight loop: the
 * `indexRowsFor` of every create (prepared-create.ts), on bench/observation.json (a narrative, four
 * codings, a UCUM quantity) and on the generated Patients, Encounters and Observations of the
 * search bench. Best of 8 rounds, so drift on the machine does not count; under load the same work
 * costs about three times as much (cold caches, and the garbage it leaves for the collector), so
 * compare runs of this file with each other, not with `npm run bench`.
 *
 * Usage: npx tsx bench/extraction.ts
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Resource } from '@medplum/fhirtypes'
import { r4SearchParamRegistry } from '../src/resources/indexing/registry.js'
import { indexRowsFor } from '../src/resources/indexing/resource-indexer.js'
import { newResourceId } from '../src/resources/resource-id.js'
import { loadFhirDefinitions } from '../src/resources/validation/index.js'
import { stampMeta } from '../src/resources/versioning.js'
import { generateTenant } from './search/generate.js'

const ROUNDS = 10
const WARM_UP_ROUNDS = 2
const PER_ROUND = 10_000

await loadFhirDefinitions()
const config = { registry: r4SearchParamRegistry(), serverUrl: 'http://localhost:8080' }
const file = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'observation.json'), 'utf8')) as Resource
const generated: Resource[] = []
for (const r of generateTenant(777)) {
  generated.push(r)
  if (generated.length >= 3000) break
}
const stamp = (r: Resource) => stampMeta(r, newResourceId(), 1, new Date())
const sets: Record<string, Resource[]> = {
  'observation.json': Array.from({ length: 2000 }, () => stamp(file)),
  'generated (3,000)': generated.map(stamp),
}

const best: Record<string, number> = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, list] of Object.entries(sets)) {
    const t0 = performance.now()
    for (let i = 0; i < PER_ROUND; i++) indexRowsFor(config, 'bench', list[i % list.length]!)
    const micros = ((performance.now() - t0) * 1000) / PER_ROUND
    if (round >= WARM_UP_ROUNDS) best[name] = Math.min(best[name] ?? Infinity, micros)
  }
}
console.log(`Index-row extraction per resource (best of ${ROUNDS - WARM_UP_ROUNDS} rounds of ${PER_ROUND.toLocaleString('en')}):`)
for (const [name, list] of Object.entries(sets)) {
  const rows = list.slice(0, 100).reduce((n, r) => n + indexRowsFor(config, 'bench', r).count, 0) / 100
  console.log(`  ${name.padEnd(20)} ${best[name]!.toFixed(1).padStart(6)} µs  (${rows.toFixed(1)} index rows each, without full text)`)
}
