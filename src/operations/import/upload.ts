import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FhirError } from '../../errors.js'

/** Largest NDJSON upload accepted, as sent (compressed when gzip): bigger drops go through files. */
export const MAX_UPLOAD_BYTES = 4 * 1024 ** 3

/** An upload saved to a temporary file until its import job has read it. */
export interface SpooledUpload {
  readonly path: string
  readonly bytes: number
  remove(): Promise<void>
}

/** Whether an operation body is the raw request stream (an NDJSON upload), not parsed JSON. */
export function isByteStream(body: unknown): body is AsyncIterable<Buffer> {
  return typeof body === 'object' && body !== null && typeof (body as { pipe?: unknown }).pipe === 'function' && Symbol.asyncIterator in body
}

/**
 * Saves an NDJSON upload as it arrives (never whole in memory) so the kick-off can answer 202 at
 * once and the job reads it at its pace. The bytes are kept as sent: a gzip body stays
 * compressed (the line reader recognises it). `Content-Encoding` other than gzip is 415; more
 * than MAX_UPLOAD_BYTES is 413.
 */
export async function spoolUpload(body: AsyncIterable<Buffer>, contentEncoding: string | undefined): Promise<SpooledUpload> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase()
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new FhirError('unsupported-media-type', `Content-Encoding '${encoding.slice(0, 40)}' is not supported for $import uploads: send identity or gzip`)
  }
  const dir = await mkdtemp(join(tmpdir(), 'segimed-import-'))
  const path = join(dir, 'upload.ndjson')
  const remove = () => rm(dir, { recursive: true, force: true })
  let bytes = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length
      if (bytes > MAX_UPLOAD_BYTES) done(new FhirError('payload-too-large', `The upload is over ${MAX_UPLOAD_BYTES} bytes; split it, or gzip it (Content-Encoding: gzip)`))
      else done(null, chunk)
    },
  })
  try {
    await pipeline(body, counter, createWriteStream(path))
  } catch (e) {
    await remove()
    throw e
  }
  return { path, bytes, remove }
}
