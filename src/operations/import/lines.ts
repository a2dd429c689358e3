import { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { createGunzip } from 'node:zlib'

/** One input line (NDJSON: one resource per line), numbered from 1 as an editor shows it. */
export interface InputLine {
  readonly line: number
  readonly text: string
}

/**
 * The lines of a byte stream, gunzipped first when it starts with the gzip magic bytes (so
 * `.ndjson.gz` files and `Content-Encoding: gzip` uploads need no flag). Blank lines are skipped
 * but counted, so line numbers stay those of the file. `onBytes` sees the raw (compressed) bytes
 * as they are read: a progress bar compares them with the file size. A stream or gzip error is
 * thrown from the iteration.
 */
export async function* readLines(input: AsyncIterable<Buffer | string>, onBytes?: (bytes: number) => void): AsyncGenerator<InputLine> {
  const iterator = input[Symbol.asyncIterator]()
  const first = await iterator.next()
  if (first.done) return
  const firstChunk = toBuffer(first.value)
  const isGzip = firstChunk.length >= 2 && firstChunk[0] === 0x1f && firstChunk[1] === 0x8b
  async function* raw(): AsyncGenerator<Buffer> {
    onBytes?.(firstChunk.length)
    yield firstChunk
    for (;;) {
      const next = await iterator.next()
      if (next.done) return
      const chunk = toBuffer(next.value)
      onBytes?.(chunk.length)
      yield chunk
    }
  }
  let chunks: AsyncIterable<Buffer> = raw()
  if (isGzip) {
    const gunzip = createGunzip()
    // pipeline forwards a source error into gunzip, whose iteration then throws it.
    pipeline(Readable.from(chunks), gunzip, () => {})
    chunks = gunzip
  }
  const decoder = new StringDecoder('utf8')
  let pending = ''
  let line = 0
  for await (const chunk of chunks) {
    pending += decoder.write(chunk)
    let start = 0
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
      line++
      const text = trimCr(pending.slice(start, end))
      start = end + 1
      if (text.trim() !== '') yield { line, text }
    }
    pending = pending.slice(start)
  }
  pending += decoder.end()
  if (pending.trim() !== '') yield { line: line + 1, text: trimCr(pending) }
}

const toBuffer = (chunk: Buffer | string): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
const trimCr = (text: string) => (text.endsWith('\r') ? text.slice(0, -1) : text)
