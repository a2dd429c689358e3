import type { FastifyInstance } from 'fastify'
import { FhirError, notFound, type FhirErrorKind, type FhirIssue } from '../../errors.js'
import type { JobCaller, Jobs } from '../../operations/index.js'
import { authOf, fhirContext } from '../context.js'
import type { FhirPluginOptions } from '../options.js'
import { rejectOtherMethods } from './method-not-allowed.js'
import { ownerOf } from './operation-call.js'

/** The media type of Bulk Data files (https://hl7.org/fhir/uv/bulkdata/export.html#file-request). */
export const NDJSON = 'application/fhir+ndjson'

/**
 * Async job status, cancel and files (https://hl7.org/fhir/R4/async.html,
 * https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-status-request), for every job kind:
 * - `GET [base]/$job/<id>`: 202 + X-Progress + Retry-After while running, 200 + the result when
 *   completed, the failure's OperationOutcome (4xx/5xx) when failed, 429 when polled too fast;
 * - `DELETE [base]/$job/<id>`: 202, the job stops and its files are deleted;
 * - `GET [base]/$job/<id>/file/<name>`: a file the job wrote, as application/fhir+ndjson.
 * Another tenant's or another client's job is 404, like one that never existed.
 */
export function registerJobRoutes(app: FastifyInstance, { jobs }: FhirPluginOptions) {
  if (!jobs) return
  app.route<{ Params: { id: string } }>({
    method: ['GET', 'DELETE'],
    url: '/$job/:id',
    handler: async (request, reply) => {
      const caller = jobCallerOf(request)
      if (request.method === 'DELETE') {
        await jobs.cancel(caller, request.params.id)
        return reply.code(202).send()
      }
      const { job, throttled, retryAfterSeconds } = await jobs.poll(caller, request.params.id)
      const retryAfter = String(retryAfterSeconds)
      if (throttled) {
        throw new FhirError('throttled', `Polled too often: wait ${retryAfter} s between status requests (Retry-After)`, { headers: { 'retry-after': retryAfter } })
      }
      switch (job.status) {
        case 'accepted':
        case 'in-progress':
          return reply.code(202).headers({ 'x-progress': progressText(job), 'retry-after': retryAfter }).send()
        case 'completed': {
          const body = JSON.stringify(job.result ?? null)
          const isResource = typeof job.result === 'object' && job.result !== null && 'resourceType' in job.result
          return reply.code(200).type(isResource ? 'application/fhir+json; charset=utf-8' : 'application/json; charset=utf-8').send(body)
        }
        case 'failed':
          throw failure(job.error)
        case 'cancelled':
          throw notFound(`Job ${job.jobId} was cancelled`)
      }
    },
  })
  rejectOtherMethods(app, '/$job/:id', ['GET', 'DELETE'])

  app.get<{ Params: { id: string; name: string } }>('/$job/:id/file/:name', async (request, reply) => {
    const file = await jobs.openFile(jobCallerOf(request), request.params.id, request.params.name)
    return reply.code(200).type(NDJSON).header('content-length', String(file.size)).send(file.stream)
  })
}

function jobCallerOf(request: Parameters<typeof fhirContext>[0]): JobCaller {
  return { tenantId: fhirContext(request).scope.tenantId, owner: ownerOf(authOf(request)) }
}

function progressText(job: Awaited<ReturnType<Jobs['status']>>): string {
  const { done, total, message } = job.progress
  const count = total === undefined ? `${done} done` : `${done} of ${total} done`
  // Header values must stay printable ASCII.
  return `${job.status}: ${message ? `${message}; ` : ''}${count}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)
}

/** A failed job answers the error it failed with (status from the kind, through the error handler). */
function failure(error: { kind: string; issues: readonly FhirIssue[] } | undefined): FhirError {
  const kind = (error?.kind ?? 'internal') as FhirErrorKind
  const issues = error?.issues.length ? [...error.issues] : [{ diagnostics: 'The job failed' }]
  return new FhirError(kind, issues[0]!.diagnostics, { issues })
}
