/**
 * Process helpers of bench/ingest.ts: our server as a child process, its token, and what /proc
 * says about CPU and peak memory (of the server, and of the PostgreSQL backends).
 */
import { randomBytes } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const TENANT = 'bench'
const CLIENT_ID = 'bench-ingest'
const CLIENT_SECRET = 'bench-ingest-secret-123456'
const TICK = 100 // USER_HZ: /proc CPU times are in 1/100 s on Linux

export interface Server {
  readonly child: ChildProcess
  readonly origin: string
  stop(): Promise<void>
}

export async function startServer(databaseUrl: string, port: number, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      BOOTSTRAP_TENANT: TENANT,
      BOOTSTRAP_CLIENT_ID: CLIENT_ID,
      BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
      AUTH_SECRET: randomBytes(32).toString('base64url'),
      BODY_LIMIT: String(64 * 1024 * 1024),
      JOB_MIN_POLL_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)))
  const origin = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) during start:\n${stderr}`)
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return { child, origin, stop }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  await stop()
  throw new Error(`server did not answer /healthz within 90 s:\n${stderr}`)
}

export async function fetchToken(origin: string): Promise<string> {
  const res = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
  })
  const body = (await res.json()) as { access_token?: string }
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`)
  return body.access_token
}

/** Resets the kernel's peak-RSS mark of a process (clear_refs 5), so each scenario reads its own peak. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    // not Linux, or not allowed: the peak then covers the whole run
  }
}

/** Peak resident memory (VmHWM) of a process, in MB. */
export function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Math.round(Number(match[1]) / 1024) : NaN
}

/** CPU seconds (user + system) of one process. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICK
}

/** CPU seconds of every PostgreSQL process on the machine (backends, WAL writer, checkpointer). */
export function postgresCpuSeconds(): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (!stat.includes('(postgres)')) continue
      const fields = stat.split(') ')[1]!.split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / TICK
    } catch {
      // the process ended meanwhile
    }
  }
  return total
}
