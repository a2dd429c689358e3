import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { forbidden, invalid } from '../../errors.js'
import { acceptedJob, asyncContext, jobCaller } from '../async.js'
import type { OperationContext, OperationDescriptor, OperationResult } from '../types.js'
import { importLines, type ImportReport } from './engine.js'
import { readLines } from './lines.js'
import { importResultBundle } from './outcome.js'
import { parseImportParameters } from './params.js'
import { isByteStream, spoolUpload } from './upload.js'

const NDJSON_TYPES = new Set(['application/fhir+ndjson', 'application/ndjson', 'application/x-ndjson'])

/** One input of a job: its name in the result and how to read it. */
interface JobInput {
  readonly name: string
  readonly type?: string
  open(): Promise<Readable>
}

/**
 * $import — bulk NDJSON import (the Bulk Data import drafts' kick-off, run with the async
 * pattern of https://hl7.org/fhir/R4/async.html): `POST [base]/$import` with either a Parameters
 * resource naming NDJSON files of this server's bulk file store (`input` parts with `type` and
 * `url`; an `$export` output, say) or the NDJSON itself (`Content-Type: application/fhir+ndjson`,
 * `Content-Encoding: gzip` allowed). Answers 202 + Content-Location; the job writes in batches
 * through the bulk path by the import rule (README "Bulk import"), reports `X-Progress`, and its
 * result is a Bundle with one OperationOutcome per input: counts created / updated / unchanged /
 * failed and every failed line with its number and reason. Bad lines never stop the good ones.
 *
 * Needs a token without patient or granular limits (the import rule matches across the tenant):
 * else `forbidden`. `invalid` for a bad Parameters (naming the part) or a url that is not a file
 * of this tenant; `unsupported-media-type` for another body or Content-Encoding; `payload-too-large`.
 */
export const importOperation: OperationDescriptor = {
  code: 'import',
  levels: ['system'],
  affectsState: true,
  definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/import',
  async run(ctx) {
    const { jobs, baseUrl, requestUrl, caller } = asyncContext(ctx)
    if (ctx.scope.access || caller.patient) {
      throw forbidden('$import needs a token without patient-compartment or granular scope limits (a system/*.* or user/*.* token)')
    }
    const inputs = await inputsOf(ctx, jobs.openUrl.bind(jobs), baseUrl)
    const target = { repo: ctx.repo, scope: ctx.scope }
    const started = new Date()
    try {
      const jobId = await jobs.start(jobCaller(ctx.scope, caller.owner), {
        kind: 'import',
        requestUrl,
        baseUrl,
        async run({ signal, progress }) {
          const reports: ImportReport[] = []
          let before = 0
          try {
            for (const input of inputs) {
              signal.throwIfAborted()
              progress(before, undefined, `importing ${input.name}`)
              const lines = readLines(await input.open())
              const report = await importLines(target, input.name, lines, {
                signal,
                ...(input.type ? { expectedType: input.type } : {}),
                onProgress: (counts) => progress(before + counts.lines, undefined, `importing ${input.name}`),
              })
              before += report.lines
              reports.push(report)
            }
          } finally {
            await Promise.all(inputs.map((i) => i.cleanup?.()))
          }
          return { result: importResultBundle(reports, started) }
        },
      })
      return acceptedJob(jobs, baseUrl, jobId) satisfies OperationResult
    } catch (e) {
      await Promise.all(inputs.map((i) => i.cleanup?.()))
      throw e
    }
  },
}

/** The kick-off body as job inputs: an upload spooled to disk, or the Parameters' files (each checked now). */
async function inputsOf(
  ctx: OperationContext,
  openUrl: (tenantId: string, baseUrl: string, url: string) => Promise<{ stream: Readable }>,
  baseUrl: string,
): Promise<(JobInput & { cleanup?(): Promise<void> })[]> {
  const contentType = (ctx.headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (isByteStream(ctx.body)) {
    if (!NDJSON_TYPES.has(contentType)) throw invalid(`An $import upload must be application/fhir+ndjson, not '${contentType.slice(0, 60)}'`)
    const upload = await spoolUpload(ctx.body, ctx.headers?.['content-encoding'])
    return [{ name: 'upload', open: async () => createReadStream(upload.path, { highWaterMark: 1024 * 1024 }), cleanup: upload.remove }]
  }
  const inputs = parseImportParameters(ctx.body)
  for (const [i, input] of inputs.entries()) {
    try {
      ;(await openUrl(ctx.scope.tenantId, baseUrl, input.url)).stream.destroy()
    } catch (e) {
      throw invalid(`input ${i + 1}: ${(e as Error).message}`, { expression: [`Parameters.parameter.where(name='input')[${i}].part.where(name='url')`] })
    }
  }
  return inputs.map((input) => ({
    name: input.url,
    ...(input.type ? { type: input.type } : {}),
    open: async () => (await openUrl(ctx.scope.tenantId, baseUrl, input.url)).stream,
  }))
}
