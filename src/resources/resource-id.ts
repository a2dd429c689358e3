import { randomBytes } from 'node:crypto'

let lastMs = 0
let sequence = 0

// Random bytes drawn 4 KB at a time: one randomBytes call per id cost ~2% of a create's server CPU.
const POOL_SIZE = 4096
let pool = Buffer.alloc(0)
let poolOffset = POOL_SIZE

function random16(): Buffer {
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(POOL_SIZE)
    poolOffset = 0
  }
  // A copy: the bytes are overwritten below, and the pool's next ids must stay untouched.
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + 16))
  poolOffset += 16
  return out
}

/**
 * A server-assigned resource id: a UUID version 7 (RFC 9562), the creation time in milliseconds
 * first, then a counter within the millisecond and random bits. Ids of new resources therefore
 * sort after older ones, so the resource primary key and the search tables' (tenant, type, id)
 * indexes grow at their right edge instead of taking each insert on a random page: a random
 * (version 4) id made a 1,000,000-line import wait on page reads and writes once those indexes
 * outgrew the buffer cache. The time is no secret: meta.lastUpdated says it anyway.
 */
export function newResourceId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now
    sequence = 0
  } else if (++sequence > 0xfff) {
    // 4096 ids in one millisecond: borrow the next one, ids stay ordered.
    lastMs += 1
    sequence = 0
  }
  const bytes = random16()
  const ms = lastMs
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff
  bytes[2] = Math.floor(ms / 2 ** 24) & 0xff
  bytes[3] = Math.floor(ms / 2 ** 16) & 0xff
  bytes[4] = Math.floor(ms / 2 ** 8) & 0xff
  bytes[5] = ms & 0xff
  bytes[6] = 0x70 | (sequence >> 8)
  bytes[7] = sequence & 0xff
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
