/**
 * Where the machine's CPU went during a measured run (Linux /proc; zeros elsewhere): the server
 * under test, the PostgreSQL backends of the bench database, the load generator itself, and
 * everything else (other work on the machine, which makes the figures noisy when it is large).
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc counters (USER_HZ; 100 on Linux x86-64 and arm64). */
const TICKS_PER_SECOND = 100

export interface CpuSnapshot {
  /** Busy ticks of all CPUs (everything in /proc/stat except idle and iowait). */
  busy: number
  server: number
  /** Ticks per PostgreSQL process id (backends come and go; only deltas per pid are meaningful). */
  postgres: Map<string, number>
  self: number
}

export interface CpuSplit {
  /** CPU milliseconds per measured second, by consumer (2,000 = two cores fully busy). */
  serverMsPerSec: number
  postgresMsPerSec: number
  loadGeneratorMsPerSec: number
  otherMsPerSec: number
}

function processTicks(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}

/**
 * PostgreSQL backends serving `database` (their process title names it), so that other work on
 * the same cluster (other databases, test suites) is not counted.
 */
function postgresTicks(database: string): Map<string, number> {
  const ticks = new Map<string, number>()
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return ticks
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (!stat.includes('(postgres)')) continue
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (title.includes(` ${database} `)) ticks.set(pid, processTicks(pid))
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks
}

/** CPU of processes alive at the end: their growth, or all of it for those started meanwhile. */
function postgresDelta(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0
  for (const [pid, t] of after) total += t - (before.get(pid) ?? 0)
  return total
}

function busyTicks(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const [, ...values] = line.trim().split(/\s+/)
    const n = values.map(Number)
    // user nice system idle iowait irq softirq steal
    return (n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0) + (n[7] ?? 0)
  } catch {
    return 0
  }
}

export function snapshotCpu(serverPid: number | undefined, database: string): CpuSnapshot {
  const usage = process.cpuUsage()
  return {
    busy: busyTicks(),
    server: serverPid ? processTicks(serverPid) : 0,
    postgres: postgresTicks(database),
    self: (usage.user + usage.system) / 1e6 * TICKS_PER_SECOND,
  }
}

export function splitCpu(before: CpuSnapshot, after: CpuSnapshot, seconds: number): CpuSplit {
  const perSec = (ticks: number) => (ticks * (1000 / TICKS_PER_SECOND)) / seconds
  const server = after.server - before.server
  const postgres = postgresDelta(before.postgres, after.postgres)
  const self = after.self - before.self
  const busy = after.busy - before.busy
  return {
    serverMsPerSec: perSec(server),
    postgresMsPerSec: perSec(postgres),
    loadGeneratorMsPerSec: perSec(self),
    otherMsPerSec: perSec(Math.max(0, busy - server - postgres - self)),
  }
}
