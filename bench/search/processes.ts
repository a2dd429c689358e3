/**
 * Child processes of the search bench (the approach of bench/run.ts): our server started with
 * `node --import tsx src/main.ts`, load runners as separate processes printing one JSON line.
 * Every child is tracked so that any exit path stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process'

export const children = new Set<ChildProcess>()

export function spawnTs(root: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', file, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output.stderr = (output.stderr + d.toString()).slice(-8000)))
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code, signal) => {
      children.delete(child)
      done(signal ? null : code)
    }),
  )
  return { child, output, exited }
}

/** Runs a child to completion within `timeoutMs` and parses the last line it prints as JSON. */
export async function runJsonChild<T>(root: string, file: string, args: string[], timeoutMs: number): Promise<T> {
  const { child, output, exited } = spawnTs(root, file, args)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${file} failed (exit ${code ?? 'by signal/timeout'}):\n${output.stderr}`)
  return JSON.parse(output.stdout.trim().split('\n').pop() ?? '') as T
}

/**
 * Starts our server and waits for /healthz. With BENCH_CPU_PROF=dir it runs under `node --cpu-prof`
 * and leaves its V8 profile there when stopped (summarise it with bench/profile-summary.ts).
 */
export async function startServer(root: string, port: number, env: NodeJS.ProcessEnv) {
  const profDir = process.env.BENCH_CPU_PROF
  const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []
  const server = spawnTs(root, 'src/main.ts', [], { PORT: String(port), LOG_LEVEL: 'warn', ...env }, nodeArgs)
  const origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 90_000
  let exitCode: number | null | undefined
  void server.exited.then((code) => (exitCode = code))
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) during start:\n${server.output.stderr}`)
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return { ...server, origin }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`server did not answer /healthz within 90 s:\n${server.output.stderr}`)
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)))
}
