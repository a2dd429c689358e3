/**
 * Summarises a V8 .cpuprofile (from `BENCH_CPU_PROF=dir npm run bench`): self time by function and
 * by file/package, optionally inclusive time of matching frames and the call paths into one
 * function. Usage:
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--top=30] [--skip=<seconds of start-up to drop>]
 *     [--inclusive=<regex on function name or file>] [--callers=<function name>] [--depth=6]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
}

const [file, ...flags] = process.argv.slice(2)
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top=N] [--skip=S] [--inclusive=re] [--callers=name]')
const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3)
const top = Number(flag('top') ?? 30)
const skipMicros = Number(flag('skip') ?? 0) * 1e6
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map<number, number>()
let clock = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  clock += dt
  if (clock < skipMicros) return
  const name = byId.get(id)!.callFrame.functionName
  if (name === '(idle)') return
  self.set(id, (self.get(id) ?? 0) + dt)
})
const busy = [...self.values()].reduce((a, b) => a + b, 0)

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\/(\.pnpm\/)?/, 'npm:')
    .replace(/^.*\/work\/[^/]+\//, '')
const where = (n: ProfileNode) => `${short(n.callFrame.url) || '(native)'}:${n.callFrame.lineNumber + 1}`
const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}  ${where(n)}`
const pkg = (n: ProfileNode) => {
  const s = short(n.callFrame.url)
  if (!s) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native/builtin)'
  if (s.startsWith('npm:')) return s.split('/').slice(0, s.startsWith('npm:@') ? 2 : 1).join('/')
  if (s.startsWith('node:')) return 'node:' + s.slice(5).split('/')[0]
  return s
}

function table(title: string, map: Map<string, number>) {
  console.log(`\n${title} (% of ${(busy / 1000).toFixed(0)} ms busy, idle excluded)`)
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((v / busy) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`)
  }
}

const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
for (const [id, t] of self) {
  const n = byId.get(id)!
  byFunction.set(label(n), (byFunction.get(label(n)) ?? 0) + t)
  byPackage.set(pkg(n), (byPackage.get(pkg(n)) ?? 0) + t)
}
table('Self time by function', byFunction)
table('Self time by file / package', byPackage)

const inclusiveRe = flag('inclusive')
if (inclusiveRe) {
  // A sample counts once for every distinct matching frame on its stack.
  const pattern = new RegExp(inclusiveRe)
  const inclusive = new Map<string, number>()
  for (const [id, t] of self) {
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!
      if (pattern.test(n.callFrame.functionName) || pattern.test(where(n))) seen.add(label(n))
    }
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + t)
  }
  table(`Inclusive time of frames matching /${inclusiveRe}/`, inclusive)
}

const callers = flag('callers')
if (callers) {
  const depth = Number(flag('depth') ?? 6)
  const paths = new Map<string, number>()
  for (const [id, t] of self) {
    if (byId.get(id)!.callFrame.functionName !== callers) continue
    const chain: string[] = []
    for (let cur = parent.get(id), k = 0; cur !== undefined && k < depth; cur = parent.get(cur), k++) {
      const n = byId.get(cur)!
      chain.push(`${n.callFrame.functionName || '(anon)'}@${where(n).split('/').slice(-2).join('/')}`)
    }
    const key = chain.join(' < ')
    paths.set(key, (paths.get(key) ?? 0) + t)
  }
  table(`Call paths into ${callers} (self time)`, paths)
}
