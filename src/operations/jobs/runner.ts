import { randomUUID } from 'node:crypto'
import type { Writable } from 'node:stream'
import { FhirError, isFhirError, notFound } from '../../errors.js'
import type { JobRecord, JobStore } from '../../resources/index.js'
import { closeFile, type BulkFileStore } from './file-store.js'
import type { JobCaller, JobContext, JobFiles, JobPoll, JobSpec, JobStatus, OpenedFile } from './types.js'

export interface JobsOptions {
  store: JobStore
  files: BulkFileStore
  clock?: () => Date
  log?: { error(object: object, message: string): void }
  /** Polls closer together than this answer 429 (JOB_MIN_POLL_MS). */
  minPollIntervalMs: number
  /** Jobs run at once by this process; more wait as `accepted` (JOB_CONCURRENCY). */
  concurrency: number
  /** Least time between two progress writes of one job. */
  progressIntervalMs?: number
  /** How often this process refreshes the heartbeat of the jobs it holds. */
  heartbeatMs?: number
  /** A running job whose heartbeat is older than this is reported failed (its process died). */
  staleAfterMs?: number
}

/** The job service: see ./index.ts for the API and the HTTP pattern it serves. */
export interface Jobs {
  start(caller: JobCaller, spec: JobSpec): Promise<string>
  poll(caller: JobCaller, jobId: string): Promise<JobPoll>
  status(caller: JobCaller, jobId: string): Promise<JobStatus>
  cancel(caller: JobCaller, jobId: string): Promise<void>
  openFile(caller: JobCaller, jobId: string, name: string): Promise<OpenedFile>
  openUrl(tenantId: string, baseUrl: string, url: string): Promise<OpenedFile>
  fileUrl(baseUrl: string, jobId: string, name: string): string
  statusUrl(baseUrl: string, jobId: string): string
  settled(jobId: string): Promise<void>
  close(): Promise<void>
}

interface LocalJob {
  readonly tenantId: string
  readonly jobId: string
  readonly controller: AbortController
  readonly done: Promise<void>
}

const STALE_ERROR = JSON.stringify({
  kind: 'internal',
  issues: [{ severity: 'error', code: 'incomplete', diagnostics: 'The server running this job stopped before it finished; start the request again' }],
})

export function createJobs(options: JobsOptions): Jobs {
  const { store, files } = options
  const clock = options.clock ?? (() => new Date())
  const progressIntervalMs = options.progressIntervalMs ?? 500
  const staleAfterMs = options.staleAfterMs ?? 60_000
  const retryAfterSeconds = Math.max(1, Math.ceil(options.minPollIntervalMs / 1000))
  const local = new Map<string, LocalJob>()
  const queue: (() => void)[] = []
  let running = 0
  let closed = false

  const heartbeat = setInterval(() => {
    const held = [...local.values()].map(({ tenantId, jobId }) => ({ tenantId, jobId }))
    if (held.length) store.heartbeat(held, clock()).catch((e: unknown) => options.log?.error({ err: e }, 'job heartbeat failed'))
  }, options.heartbeatMs ?? 15_000)
  heartbeat.unref()

  /** Waits for a run slot (JOB_CONCURRENCY); close() lets every waiter through to see its abort. */
  const acquire = () =>
    new Promise<void>((resolve) => {
      if (running < options.concurrency) {
        running++
        resolve()
      } else queue.push(() => (running++, resolve()))
    })
  const release = () => {
    running--
    queue.shift()?.()
  }

  async function execute(spec: JobSpec, tenantId: string, jobId: string, controller: AbortController): Promise<void> {
    await acquire()
    try {
      if (controller.signal.aborted || !(await store.start(tenantId, jobId, clock()))) return
      let last = 0
      let pending: { done: number; total?: number; message?: string } | undefined
      let writing: Promise<void> = Promise.resolve()
      const write = () => {
        const value = pending
        pending = undefined
        if (!value) return writing
        last = Date.now()
        writing = writing
          .then(() => store.progress(tenantId, jobId, value, clock()))
          .then((status) => {
            // A cancel through another instance shows up here.
            if (status === 'cancelled') controller.abort(new Error('cancelled'))
          })
          .catch((e: unknown) => options.log?.error({ err: e, jobId }, 'job progress write failed'))
        return writing
      }
      const ctx: JobContext = {
        jobId,
        tenantId,
        signal: controller.signal,
        progress(done, total, message) {
          pending = { done, total, message }
          if (Date.now() - last >= progressIntervalMs) void write()
        },
        files: jobFiles(files, tenantId, jobId, spec.baseUrl),
      }
      try {
        const output = await spec.run(ctx)
        await write()
        controller.signal.throwIfAborted()
        await store.finish(tenantId, jobId, { status: 'completed', result: JSON.stringify(output.result) }, clock())
      } catch (e) {
        await write()
        if (controller.signal.aborted) return
        if (!isFhirError(e) || e.kind === 'internal') options.log?.error({ err: e, jobId, tenantId, kind: spec.kind }, 'job failed')
        const error = isFhirError(e) ? e : new FhirError('internal', `The ${spec.kind} job failed on an internal error`)
        await store.finish(tenantId, jobId, { status: 'failed', error: JSON.stringify({ kind: error.kind, issues: error.issues }) }, clock())
      }
    } finally {
      release()
      // A cancelled job's files go with it (Bulk Data: a deleted request's files are removed).
      if (controller.signal.aborted) await files.remove(tenantId, jobId).catch(() => {})
    }
  }

  async function owned(caller: JobCaller, jobId: string): Promise<JobRecord> {
    const job = await store.get(caller.tenantId, jobId)
    if (!job || job.owner !== caller.owner) throw unknownJob(jobId)
    return job
  }

  /** A job still marked running whose process stopped heart-beating is failed on read. */
  async function checked(job: JobRecord): Promise<JobRecord> {
    if (job.status !== 'accepted' && job.status !== 'in-progress') return job
    if (local.has(job.jobId)) return job
    const now = clock()
    if (now.getTime() - job.heartbeatAt.getTime() < staleAfterMs) return job
    await store.failIfStale(job.tenantId, job.jobId, new Date(now.getTime() - staleAfterMs), STALE_ERROR, now)
    return (await store.get(job.tenantId, job.jobId)) ?? job
  }

  return {
    async start(caller, spec) {
      if (closed) throw new FhirError('internal', 'The server is shutting down; start the job again')
      const jobId = randomUUID()
      await store.insert({ tenantId: caller.tenantId, jobId, kind: spec.kind, owner: caller.owner, requestUrl: spec.requestUrl, now: clock() })
      const controller = new AbortController()
      const done = execute(spec, caller.tenantId, jobId, controller)
        .catch((e: unknown) => options.log?.error({ err: e, jobId }, 'job runner failed'))
        .finally(() => local.delete(jobId))
      local.set(jobId, { tenantId: caller.tenantId, jobId, controller, done })
      return jobId
    },

    async poll(caller, jobId) {
      const polled = await store.poll(caller.tenantId, jobId, clock(), options.minPollIntervalMs)
      if (!polled || polled.job.owner !== caller.owner) throw unknownJob(jobId)
      return { job: toStatus(await checked(polled.job)), throttled: polled.throttled, retryAfterSeconds }
    },

    async status(caller, jobId) {
      return toStatus(await checked(await owned(caller, jobId)))
    },

    async cancel(caller, jobId) {
      const job = await owned(caller, jobId)
      if (job.status === 'cancelled') throw unknownJob(jobId)
      await store.cancel(caller.tenantId, jobId, clock())
      const running = local.get(jobId)
      if (running) {
        running.controller.abort(new Error('cancelled'))
        await running.done
      } else await files.remove(caller.tenantId, jobId)
    },

    async openFile(caller, jobId, name) {
      const job = await owned(caller, jobId)
      if (job.status === 'cancelled') throw unknownJob(jobId)
      return files.open(caller.tenantId, jobId, name)
    },

    async openUrl(tenantId, baseUrl, url) {
      const prefix = `${baseUrl}/$job/`
      const match = url.startsWith(prefix) ? /^([A-Za-z0-9-]{1,64})\/file\/([^/?#]+)$/.exec(url.slice(prefix.length)) : null
      if (!match) throw notFound(`${url.slice(0, 200)} is not a file of this server's bulk file store (${prefix}<job>/file/<name>)`)
      const [, jobId, name] = match as unknown as [string, string, string]
      const job = await store.get(tenantId, jobId)
      if (!job || job.status === 'cancelled') throw notFound(`${url.slice(0, 200)}: job ${jobId} is not known in this tenant`)
      return files.open(tenantId, jobId, decodeURIComponent(name))
    },

    fileUrl: (baseUrl, jobId, name) => `${baseUrl}/$job/${jobId}/file/${encodeURIComponent(name)}`,
    statusUrl: (baseUrl, jobId) => `${baseUrl}/$job/${jobId}`,

    async settled(jobId) {
      await local.get(jobId)?.done
    },

    async close() {
      closed = true
      clearInterval(heartbeat)
      const held = [...local.values()]
      for (const job of held) job.controller.abort(new Error('server shutting down'))
      while (queue.length) queue.shift()?.()
      // Jobs cut short by the shutdown are failed explicitly rather than left to look stale.
      await Promise.all(held.map((j) => j.done))
      for (const j of held) await store.finish(j.tenantId, j.jobId, { status: 'failed', error: STALE_ERROR }, clock()).catch(() => {})
    },
  }
}

function jobFiles(files: BulkFileStore, tenantId: string, jobId: string, baseUrl: string): JobFiles {
  return {
    create: (name) => files.create(tenantId, jobId, name),
    finish: (stream: Writable) => closeFile(stream),
    url: (name) => `${baseUrl}/$job/${jobId}/file/${encodeURIComponent(name)}`,
  }
}

const unknownJob = (jobId: string) => notFound(`Job ${jobId.slice(0, 64)} is not known (or was cancelled)`)

function toStatus(job: JobRecord): JobStatus {
  return {
    jobId: job.jobId,
    kind: job.kind,
    status: job.status,
    requestUrl: job.requestUrl,
    progress: { done: job.progressDone, total: job.progressTotal, message: job.progressMessage },
    result: job.result === undefined ? undefined : (JSON.parse(job.result) as unknown),
    error: job.error === undefined ? undefined : (JSON.parse(job.error) as JobStatus['error']),
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString(),
  }
}
