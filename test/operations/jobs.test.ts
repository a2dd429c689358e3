import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/connect.js'
import { invalid } from '../../src/errors.js'
import { createBulkFileStore, createJobs, type JobCaller, type Jobs } from '../../src/operations/index.js'
import { createJobStore } from '../../src/resources/index.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

/** The async job framework on the real database: lifecycle, progress, cancel, ownership, files. */
let db: Db
let jobs: Jobs
let now = new Date('2025-01-01T00:00:00Z')
const clock = () => now
const BASE = 'http://fhir.test/fhir/x'

beforeAll(async () => {
  db = await openTestDb({ poolSize: 2 })
  jobs = createJobs({
    store: createJobStore(db.db),
    files: createBulkFileStore(mkdtempSync(join(tmpdir(), 'segimed-jobs-'))),
    clock,
    minPollIntervalMs: 2000,
    concurrency: 1,
    progressIntervalMs: 0,
  })
})
afterAll(async () => {
  await jobs.close()
  await db.close()
})

async function caller(owner = 'client-a||'): Promise<JobCaller> {
  const tenantId = freshTenantId('j')
  await db.db.insertInto('tenant').values({ tenant_id: tenantId, name: tenantId, organization_id: 'org' }).execute()
  return { tenantId, owner }
}

const spec = (run: Parameters<Jobs['start']>[1]['run']) => ({ kind: 'test', requestUrl: 'http://fhir.test/fhir/x/$test', baseUrl: BASE, run })

describe('jobs', () => {
  it('run in the background, write progress, and keep the result of a completed job', async () => {
    const me = await caller()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const id = await jobs.start(me, spec(async ({ progress }) => {
      progress(3, 7, 'three')
      await gate
      progress(7, 7, 'all')
      return { result: { resourceType: 'OperationOutcome', issue: [] } }
    }))
    await new Promise((r) => setTimeout(r, 100))
    const running = await jobs.status(me, id)
    expect(running).toMatchObject({ jobId: id, kind: 'test', status: 'in-progress', progress: { done: 3, total: 7, message: 'three' } })
    release()
    await jobs.settled(id)
    const done = await jobs.status(me, id)
    expect(done).toMatchObject({ status: 'completed', progress: { done: 7, total: 7, message: 'all' }, result: { resourceType: 'OperationOutcome', issue: [] } })
    expect(done.finishedAt).toBe(now.toISOString())
  })

  it('fail with the FhirError a job throws, and with an internal error for anything else', async () => {
    const me = await caller()
    const bad = await jobs.start(me, spec(async () => {
      throw invalid('line 3 is not JSON', { expression: ['line 3'] })
    }))
    const bug = await jobs.start(me, spec(async () => {
      throw new TypeError('secret detail')
    }))
    await jobs.settled(bad)
    await jobs.settled(bug)
    expect((await jobs.status(me, bad)).error).toEqual({ kind: 'invalid', issues: [{ diagnostics: 'line 3 is not JSON', expression: ['line 3'] }] })
    const internal = (await jobs.status(me, bug)).error
    expect(internal?.kind).toBe('internal')
    expect(JSON.stringify(internal)).not.toContain('secret detail')
  })

  it('cancel aborts a running job through its signal, deletes its files, and the job is then unknown', async () => {
    const me = await caller()
    let written = false
    const id = await jobs.start(me, spec(async ({ signal, files }) => {
      const file = files.create('part.ndjson')
      file.write('{}\n')
      await files.finish(file)
      written = true
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
      return { result: 'never' }
    }))
    while (!written) await new Promise((r) => setTimeout(r, 10))
    expect(await text((await jobs.openFile(me, id, 'part.ndjson')).stream)).toBe('{}\n')
    await jobs.cancel(me, id)
    await expect(jobs.status(me, id)).resolves.toMatchObject({ status: 'cancelled' })
    await expect(jobs.openFile(me, id, 'part.ndjson')).rejects.toMatchObject({ kind: 'not-found' })
    await expect(jobs.cancel(me, id)).rejects.toMatchObject({ kind: 'not-found' })
  })

  it('queue beyond the concurrency limit: a second job waits as accepted until the first ends', async () => {
    const me = await caller()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const first = await jobs.start(me, spec(async () => (await gate, { result: 1 })))
    const second = await jobs.start(me, spec(async () => ({ result: 2 })))
    await new Promise((r) => setTimeout(r, 100))
    expect((await jobs.status(me, second)).status).toBe('accepted')
    release()
    await jobs.settled(first)
    await jobs.settled(second)
    expect((await jobs.status(me, second)).result).toBe(2)
  })

  it("are unknown to another owner and to another tenant", async () => {
    const me = await caller()
    const id = await jobs.start(me, spec(async () => ({ result: 1 })))
    await jobs.settled(id)
    const stranger = { ...me, owner: 'client-b||' }
    const otherTenant = await caller()
    for (const who of [stranger, otherTenant]) {
      await expect(jobs.status(who, id)).rejects.toMatchObject({ kind: 'not-found' })
      await expect(jobs.poll(who, id)).rejects.toMatchObject({ kind: 'not-found' })
      await expect(jobs.cancel(who, id)).rejects.toMatchObject({ kind: 'not-found' })
    }
  })

  it('throttle polls closer than the minimum interval, without moving the last poll time', async () => {
    const me = await caller()
    const id = await jobs.start(me, spec(async () => ({ result: 1 })))
    await jobs.settled(id)
    expect((await jobs.poll(me, id)).throttled).toBe(false)
    now = new Date(now.getTime() + 1500)
    const early = await jobs.poll(me, id)
    expect(early).toMatchObject({ throttled: true, retryAfterSeconds: 2 })
    now = new Date(now.getTime() + 600)
    expect((await jobs.poll(me, id)).throttled).toBe(false)
  })

  it('report a job whose process stopped heart-beating as failed', async () => {
    const me = await caller()
    const jobId = 'orphan-' + me.tenantId
    await createJobStore(db.db).insert({ tenantId: me.tenantId, jobId, kind: 'test', owner: me.owner, requestUrl: 'x', now: new Date(now.getTime() - 120_000) })
    const job = await jobs.status(me, jobId)
    expect(job.status).toBe('failed')
    expect(job.error?.issues[0]?.diagnostics).toMatch(/stopped before it finished/)
  })

  it('map a file URL of this tenant back to its stream, and refuse any other URL', async () => {
    const me = await caller()
    const id = await jobs.start(me, spec(async ({ files }) => {
      const f = files.create('Patient.ndjson')
      f.write('{"resourceType":"Patient"}\n')
      await files.finish(f)
      return { result: { url: files.url('Patient.ndjson') } }
    }))
    await jobs.settled(id)
    const url = (await jobs.status(me, id)).result as { url: string }
    expect(url.url).toBe(`${BASE}/$job/${id}/file/Patient.ndjson`)
    const opened = await jobs.openUrl(me.tenantId, BASE, url.url)
    expect(opened.size).toBe(27)
    expect(await text(opened.stream)).toBe('{"resourceType":"Patient"}\n')
    const other = await caller()
    await expect(jobs.openUrl(other.tenantId, BASE, url.url)).rejects.toMatchObject({ kind: 'not-found' })
    await expect(jobs.openUrl(me.tenantId, BASE, 'http://elsewhere/file.ndjson')).rejects.toMatchObject({ kind: 'not-found' })
    await expect(jobs.openUrl(me.tenantId, BASE, `${BASE}/$job/${id}/file/..%2Fsecret`)).rejects.toMatchObject({ kind: 'invalid' })
  })
})
