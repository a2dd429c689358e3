import { createReadStream, createWriteStream, mkdirSync } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { finished } from 'node:stream/promises'
import type { Writable } from 'node:stream'
import { invalid, notFound } from '../../errors.js'
import type { OpenedFile } from './types.js'

/**
 * Bulk files on the local disk: `<BULK_DIR>/<tenant>/<job>/<name>`. Files are streamed in and
 * out, never held in memory. With several server instances BULK_DIR must be a shared volume
 * (the instance that ran a job wrote its files; any instance may serve them).
 */
export interface BulkFileStore {
  /** A write stream for a new file of a job; creates the job's folder. */
  create(tenantId: string, jobId: string, name: string): Writable
  /** The file as a stream and its size; `not-found` when it does not exist. */
  open(tenantId: string, jobId: string, name: string): Promise<OpenedFile>
  /** Deletes every file of a job (cancel, expiry). */
  remove(tenantId: string, jobId: string): Promise<void>
}

// Tenant slugs and job ids are checked before they reach a path; names are plain file names.
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

export function checkFileName(name: string): string {
  if (!SAFE_SEGMENT.test(name) || name.includes('..')) {
    throw invalid(`Bulk file name '${name.slice(0, 100)}' is not valid: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit`)
  }
  return name
}

export function createBulkFileStore(rootDir: string): BulkFileStore {
  const root = resolve(rootDir)
  const folder = (tenantId: string, jobId: string) => {
    if (!SAFE_SEGMENT.test(tenantId) || !SAFE_SEGMENT.test(jobId)) throw notFound(`Job ${jobId.slice(0, 64)} is not known`)
    return join(root, tenantId, jobId)
  }
  return {
    create(tenantId, jobId, name) {
      const dir = folder(tenantId, jobId)
      const path = join(dir, checkFileName(name))
      // Made synchronously: a WriteStream opens its file on the next tick, the folder must exist by then.
      mkdirSync(dir, { recursive: true })
      const stream = createWriteStream(path, { flags: 'w', highWaterMark: 256 * 1024 })
      return stream
    },
    async open(tenantId, jobId, name) {
      const path = join(folder(tenantId, jobId), checkFileName(name))
      try {
        const info = await stat(path)
        if (!info.isFile()) throw new Error('not a file')
        return { stream: createReadStream(path, { highWaterMark: 256 * 1024 }), size: info.size }
      } catch {
        throw notFound(`File ${name} of job ${jobId} is not known`)
      }
    },
    async remove(tenantId, jobId) {
      await rm(folder(tenantId, jobId), { recursive: true, force: true })
    },
  }
}

/** Waits until a write stream has flushed everything and closed; rejects with its error. */
export async function closeFile(stream: Writable): Promise<void> {
  if (!stream.writableEnded) stream.end()
  await finished(stream)
}
