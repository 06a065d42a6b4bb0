/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and sums self time by function and
 * by where the code lives (a package under node_modules, the project's own
 * files, node's internals), so that a profile can be read in a terminal and
 * quoted in docs/performance.md.
 */
import fs from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export interface ProfileRow {
  readonly name: string
  readonly ms: number
  readonly share: number
}

export interface ProfileSummary {
  readonly totalMs: number
  /** self time by place: a package, `project:src/...`, `node:internal`, `(gc)`, `(idle)`, `(program)` */
  readonly byPlace: readonly ProfileRow[]
  /** self time by function, `name place:line` */
  readonly byFunction: readonly ProfileRow[]
}

/** Where a script lives: `pkg` for node_modules/pkg, the project path relative to `root`, or node's own. */
export function placeOf(url: string, root: string): string {
  if (!url) return ''
  const file = url.replace(/^file:\/\//, '')
  const nm = file.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? file)
  }
  if (file.startsWith('node:')) return 'node:internal'
  if (root && file.startsWith(root)) return file.slice(root.length).replace(/^\//, '')
  return file
}

/** A script's file, short: `pkg/lib/x.js` under node_modules, relative to `root` in the project. */
export function fileOf(url: string, root: string): string {
  const file = url.replace(/^file:\/\//, '')
  const nm = file.lastIndexOf('/node_modules/')
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length)
  if (root && file.startsWith(root)) return file.slice(root.length).replace(/^\//, '')
  return file
}

export function summarize(profile: CpuProfile, root: string, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const place = new Map<string, number>()
  const fn = new Map<string, number>()
  let total = 0
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (!node) continue
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    const where = placeOf(url, root)
    const special = /^\((garbage collector|idle|program|root)\)$/.test(functionName)
    const p = special ? functionName.replace('garbage collector', 'gc') : where || 'native'
    place.set(p, (place.get(p) ?? 0) + us)
    const f = special ? functionName : `${functionName || '(anonymous)'} ${fileOf(url, root) || 'native'}${url ? `:${lineNumber + 1}` : ''}`
    fn.set(f, (fn.get(f) ?? 0) + us)
  }
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: total ? us / total : 0 }))
  return { totalMs: total / 1000, byPlace: rows(place), byFunction: rows(fn) }
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
}

export function formatSummary(s: ProfileSummary): string {
  const line = (r: ProfileRow): string => `  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`
  return [`total ${s.totalMs.toFixed(0)} ms sampled`, 'self time by place:', ...s.byPlace.map(line), 'self time by function:', ...s.byFunction.map(line)].join('\n')
}

/** `node dist/bench/lib/profile.js FILE.cpuprofile [ROOT]` prints the summary of one profile. */
if (require.main === module) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node dist/bench/lib/profile.js FILE.cpuprofile [PROJECT_ROOT]')
    process.exit(2)
  }
  console.log(formatSummary(summarize(readProfile(file), process.argv[3] ?? process.cwd(), Number(process.env.TOP ?? 30))))
}
