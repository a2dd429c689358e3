/**
 * Ingest throughput (issue 4 item 7 a-c): `npx tsx bench/ingest.ts [--size 100000] [--scenarios a,b,c]`.
 * (a) the Synthea 2.4 transaction bundles posted one after another, (b) 100-entry transaction
 * bundles, 4 in parallel, (c) `$import` of `--size` generated NDJSON lines (upload); each beside a
 * baseline on the same database in the same run (multi-row INSERT of 500 for a-b, a single-stream
 * COPY for c), with the ratio, the server's peak RSS and where the CPU went (server process vs
 * PostgreSQL processes). See bench/README.md "Ingest".
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, createReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { copyBaseline, insertBaseline } from './ingest-baseline.js'
import { labTransactions, syntheaBundles, writeNdjson } from './ingest-data.js'
import { cpuSeconds, fetchToken, peakRssMb, postgresCpuSeconds, resetPeakRss, ROOT, startServer, TENANT, type Server } from './ingest-process.js'

const { values } = parseArgs({
  options: { size: { type: 'string', default: '100000' }, scenarios: { type: 'string', default: 'a,b,c' } },
})
const size = Number(values.size)
if (!Number.isInteger(size) || size < 10) throw new Error(`--size must be an integer >= 10, got ${values.size}`)
const scenarios = new Set(values.scenarios!.split(','))
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const dataDir = process.env.SHARED_DATA_DIR ?? join(ROOT, '..', 'shared', 'data')
const syntheaFiles = Number(process.env.BENCH_SYNTHEA_FILES ?? 101)
const txBundles = Number(process.env.BENCH_TX_BUNDLES ?? 200)
const port = Number(process.env.BENCH_INGEST_PORT ?? 18095)
const DB = 'segimed_ingest'

interface Row {
  scenario: string
  resources: number
  seconds: number
  rate: number
  baselineRate: number
  ratio: number
  target: string
  peakRssMb: number
  serverCpuS: number
  postgresCpuS: number
  extra?: Record<string, number>
}

const dbUrl = (() => {
  const url = new URL(adminUrl)
  url.pathname = `/${DB}`
  return url.toString()
})()

async function recreateDatabase() {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  await client.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
  await client.query(`CREATE DATABASE ${DB}`)
  await client.end()
}

/** Runs `work` and reports its time, the server's peak RSS and CPU split, beside the baseline rate. */
async function measure(server: Server, name: string, resources: number, target: string, baselineSeconds: number, work: () => Promise<Record<string, number> | void>): Promise<Row> {
  const pid = server.child.pid!
  resetPeakRss(pid)
  const cpu0 = cpuSeconds(pid)
  const pg0 = postgresCpuSeconds()
  const started = performance.now()
  const extra = (await work()) ?? undefined
  const seconds = (performance.now() - started) / 1000
  const rate = resources / seconds
  const baselineRate = resources / baselineSeconds
  return {
    scenario: name, resources, seconds: round(seconds, 2), rate: Math.round(rate), baselineRate: Math.round(baselineRate), ratio: round(rate / baselineRate, 3), target,
    peakRssMb: peakRssMb(pid), serverCpuS: round(cpuSeconds(pid) - cpu0, 1), postgresCpuS: round(postgresCpuSeconds() - pg0, 1), ...(extra ? { extra } : {}),
  }
}

async function postBundle(origin: string, token: string, body: string): Promise<number> {
  const res = await fetch(`${origin}/fhir/${TENANT}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`transaction answered ${res.status}: ${text.slice(0, 500)}`)
  const entries = (JSON.parse(text) as { entry: { response: { status: string } }[] }).entry
  const bad = entries.filter((e) => !e.response.status.startsWith('201'))
  if (bad.length) throw new Error(`${bad.length} entries not created: ${JSON.stringify(bad[0])}`)
  return entries.length
}

async function scenarioA(server: Server, token: string): Promise<Row> {
  const input = syntheaBundles(dataDir, syntheaFiles)
  const baseline = await insertBaseline(dbUrl, input.resources)
  return measure(server, `(a) Synthea 2.4: ${input.bundles.length} transaction bundles, one after another`, input.resources.length, '-', baseline, async () => {
    for (const bundle of input.bundles) await postBundle(server.origin, token, bundle)
  })
}

async function scenarioB(server: Server, token: string): Promise<Row> {
  const input = labTransactions(txBundles, 1_000_000)
  const baseline = await insertBaseline(dbUrl, input.resources)
  return measure(server, `(b) ${txBundles} transaction bundles of 100 entries, 4 in parallel`, input.resources.length, '>= 2,500/s', baseline, async () => {
    let next = 0
    const worker = async () => {
      while (next < input.bundles.length) await postBundle(server.origin, token, input.bundles[next++]!)
    }
    await Promise.all([worker(), worker(), worker(), worker()])
  })
}

async function scenarioC(server: Server, token: string, scratch: string): Promise<Row> {
  const file = join(scratch, `import-${size}.ndjson`)
  await writeNdjson(file, size)
  const baseline = await copyBaseline(dbUrl, file)
  const mb = statSync(file).size / 1024 / 1024
  return measure(server, `(c) $import of ${size.toLocaleString('en')} NDJSON lines (${mb.toFixed(0)} MB upload)`, size, '>= 5,000/s; rate at end >= 70% of rate at 100k', baseline, async () => {
    const started = performance.now()
    const body = Readable.toWeb(createReadStream(file, { highWaterMark: 1024 * 1024 })) as ReadableStream
    const kickOff = await fetch(`${server.origin}/fhir/${TENANT}/$import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+ndjson', prefer: 'respond-async' },
      body,
      duplex: 'half',
    } as RequestInit)
    if (kickOff.status !== 202) throw new Error(`$import kick-off answered ${kickOff.status}: ${await kickOff.text()}`)
    const status = kickOff.headers.get('content-location')!
    let at100k: number | undefined
    for (;;) {
      await new Promise((r) => setTimeout(r, 250))
      const res = await fetch(status, { headers: { authorization: `Bearer ${token}` } })
      if (res.status === 202) {
        const done = Number(/(\d+) (?:of \d+ )?done/.exec(res.headers.get('x-progress') ?? '')?.[1] ?? 0)
        if (at100k === undefined && done >= 100_000) at100k = (performance.now() - started) / 1000
        continue
      }
      const text = await res.text()
      if (res.status !== 200) throw new Error(`$import status ${res.status}: ${text.slice(0, 500)}`)
      const counts = /(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) failed/.exec(text)
      if (!counts || Number(counts[4]) !== 0 || Number(counts[1]) !== size) throw new Error(`$import did not create every line: ${text.slice(0, 500)}`)
      const total = (performance.now() - started) / 1000
      return { rateAt100k: at100k ? Math.round(100_000 / at100k) : NaN, rateAtEnd: Math.round(size / total) }
    }
  })
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

function print(rows: readonly Row[]) {
  console.log('\n| scenario | resources | s | ours res/s | baseline res/s | ratio | target | server peak RSS MB | server CPU s | PostgreSQL CPU s |')
  console.log('|---|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.resources} | ${r.seconds} | ${r.rate} | ${r.baselineRate} | ${r.ratio} | ${r.target} | ${r.peakRssMb} | ${r.serverCpuS} | ${r.postgresCpuS} |`)
    if (r.extra) console.log(`|   ${Object.entries(r.extra).map(([k, v]) => `${k} ${v}/s`).join(', ')} | | | | | | | | | |`)
  }
}

async function main() {
  await recreateDatabase()
  const scratch = mkdtempSync(join(tmpdir(), 'segimed-ingest-'))
  const server = await startServer(dbUrl, port, { BULK_DIR: join(scratch, 'bulk') })
  const rows: Row[] = []
  try {
    const token = await fetchToken(server.origin)
    if (scenarios.has('a')) rows.push(await scenarioA(server, token))
    if (scenarios.has('b')) rows.push(await scenarioB(server, token))
    if (scenarios.has('c')) rows.push(await scenarioC(server, token, scratch))
  } finally {
    await server.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
  print(rows)
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(rows, null, 2))
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
