/**
 * Microbenchmarks, run as a child of bench/run.ts before the servers start (so nothing competes
 * for the CPU): R4 validation of the bench Observation, JSON.parse + JSON.stringify of its body,
 * and an ES256 access-token verification (what every authenticated request pays).
 * Prints one JSON line (a MicroResult) on stdout.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { loadFhirDefinitions, validateResource } from '../src/resources/index.js'

export interface MicroFigure {
  /** Mean microseconds per operation over `iterations` (after warm-up). */
  meanUs: number
  /** Median of per-batch means, microseconds. */
  medianUs: number
  iterations: number
}

export interface MicroResult {
  bodyBytes: number
  loadDefinitionsMs: number
  validateIssues: number
  validateResource: MicroFigure
  jsonParseStringify: MicroFigure
  jwtVerifyEs256: MicroFigure
}

const BATCHES = 20

async function measure(iterations: number, fn: () => unknown | Promise<unknown>): Promise<MicroFigure> {
  for (let i = 0; i < Math.max(50, iterations / 10); i++) await fn()
  const perBatch = Math.max(1, Math.floor(iterations / BATCHES))
  const means: number[] = []
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now()
    for (let i = 0; i < perBatch; i++) await fn()
    means.push(((performance.now() - t0) * 1000) / perBatch)
  }
  const sorted = [...means].sort((a, b) => a - b)
  return {
    meanUs: means.reduce((a, b) => a + b, 0) / means.length,
    medianUs: sorted[Math.floor(sorted.length / 2)]!,
    iterations: perBatch * BATCHES,
  }
}

async function main() {
  const iterations = Number(process.env.BENCH_MICRO_ITERATIONS ?? 4000)
  const text = readFileSync(new URL('./observation.json', import.meta.url), 'utf8')
  const body = JSON.stringify(JSON.parse(text))
  // What the server validates on create: the body stamped with id and meta.
  const stamped = {
    ...(JSON.parse(body) as Record<string, unknown>),
    id: '0b6f2b5e-4a8f-4b7e-9a57-0d6f7c1e2a3b',
    meta: { versionId: '1', lastUpdated: new Date().toISOString() },
  }

  const t0 = performance.now()
  loadFhirDefinitions()
  const loadDefinitionsMs = performance.now() - t0
  const issues = validateResource(stamped)

  const validate = await measure(iterations, () => validateResource(stamped))
  const json = await measure(iterations * 5, () => JSON.stringify(JSON.parse(body)))

  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const token = await new SignJWT({ tenant: 'bench', scope: 'system/*.*', client_id: 'bench' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k' })
    .setIssuer('http://127.0.0.1')
    .setAudience('http://127.0.0.1/fhir/bench')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey)
  const jwt = await measure(iterations, () => jwtVerify(token, publicKey, { algorithms: ['ES256'], issuer: 'http://127.0.0.1' }))

  const result: MicroResult = {
    bodyBytes: Buffer.byteLength(body),
    loadDefinitionsMs,
    validateIssues: issues.length,
    validateResource: validate,
    jsonParseStringify: json,
    jwtVerifyEs256: jwt,
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e)
  process.exit(1)
})
