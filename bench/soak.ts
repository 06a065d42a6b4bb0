/**
 * `npm run soak`: load and soak through a real Haraka with the plugin (bench/lib/soak.ts),
 * on loopback only, bounded in count and time, stopping by itself.
 *
 *   1. mode=quarantine: --messages (10,000) at --connections (20): genuine notices delivered,
 *      spoofs quarantined, malformed messages delivered or quarantined whole;
 *   2. mode=reject: --reject-messages (2,000), the same mix: spoofs refused with 550.
 *
 * Every message is accounted for from the files Haraka wrote (delivered + quarantined +
 * rejected = sent, none lost, none duplicated); Haraka's RSS after warm-up (--warmup, 1,000
 * messages) against the end of the pass, within --rss-bound-mb (96), and V8's live heap after
 * full GCs within --heap-bound-mb (16); docs/reliability.md says why these bounds. Exits 1
 * when any check fails, 2 on a usage error.
 *
 * Options: --messages=N --connections=C --mode=both|quarantine|reject --reject-messages=N
 * --warmup=N --rss-bound-mb=MB --heap-bound-mb=MB --nodes=N --timeout-s=S --trace-gc=1|0 (Haraka under node's
 * --trace-gc, so that the live heap after full GCs is reported beside RSS) --dns-faults=PCT (that share of the DNS
 * queries answered SERVFAIL or not at all, every answer with TTL 1 s; a 451 for a brand notice whose aligned check
 * hit DNS is then a fate of its own) --json=FILE.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'

import { PKG_ROOT } from './lib/haraka.js'
import { type PassReport, type SoakMode, type Tally, formatPass, makeWorld, mb, runPass, tallyTable } from './lib/soak.js'

interface Options {
  readonly messages: number
  readonly rejectMessages: number
  readonly connections: number
  readonly modes: readonly SoakMode[]
  readonly warmup: number
  readonly rssBoundMb: number
  readonly heapBoundMb: number
  readonly nodes: number
  readonly timeoutS: number
  readonly traceGc: boolean
  /** percent of DNS queries faulted */
  readonly dnsFaults: number
  readonly json?: string
}

function parseArgs(argv: readonly string[]): Options {
  const flags = new Map<string, string>()
  for (const a of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a)
    if (!m) throw new Error(`unknown argument ${a} (options take a value: --name=value)`)
    flags.set(m[1]!, m[2]!)
  }
  const known = ['messages', 'reject-messages', 'connections', 'mode', 'warmup', 'rss-bound-mb', 'heap-bound-mb', 'nodes', 'timeout-s', 'trace-gc', 'dns-faults', 'json']
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(' ')})`)
  const num = (k: string, dflt: number, min = 0): number => {
    const v = flags.get(k)
    if (v === undefined) return dflt
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k}=${v}: a whole number >= ${min}`)
    return n
  }
  const mode = flags.get('mode') ?? 'both'
  if (!['both', 'quarantine', 'reject'].includes(mode)) throw new Error(`--mode=${mode}: both, quarantine or reject`)
  const messages = num('messages', 10_000, 1)
  return {
    messages,
    rejectMessages: num('reject-messages', mode === 'reject' ? messages : 2000, 1),
    connections: num('connections', 20, 1),
    modes: mode === 'both' ? ['quarantine', 'reject'] : [mode as SoakMode],
    warmup: num('warmup', 1000, 1),
    rssBoundMb: num('rss-bound-mb', 96),
    heapBoundMb: num('heap-bound-mb', 16),
    nodes: num('nodes', 0),
    timeoutS: num('timeout-s', 600, 1),
    traceGc: num('trace-gc', 1) !== 0,
    dnsFaults: Math.min(100, num('dns-faults', 0)),
    json: flags.get('json'),
  }
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`)
}

function machine(): Record<string, string> {
  const cpus = os.cpus()
  let commit = '-'
  try {
    commit = execFileSync('git', ['-C', PKG_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    // not a git checkout
  }
  return {
    cpu: `${cpus[0]?.model ?? '?'} x ${cpus.length} (nproc ${os.availableParallelism()})`,
    memory: mb(os.totalmem()),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit,
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  }
}

async function main(): Promise<number> {
  let opts: Options
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n`)
    return 2
  }
  const started = Date.now()
  out(`# shop-notice soak: ${process.argv.slice(2).join(' ') || '(defaults)'}`)
  out()
  for (const [k, v] of Object.entries(machine())) out(`- ${k}: ${v}`)
  out()
  const world = await makeWorld({ genuineDomains: 60, spoofDomains: 20, generated: 40 })
  const kinds = world.templates.reduce<Record<string, number>>((acc, t) => ({ ...acc, [t.kind]: (acc[t.kind] ?? 0) + 1 }), {})
  out(`templates: ${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}; loopback DNS on 127.0.0.1:${world.dns.port}`)
  out()
  const reports: PassReport[] = []
  try {
    for (const mode of opts.modes) {
      const messages = mode === 'quarantine' ? opts.messages : opts.rejectMessages
      out(`running mode=${mode}: ${messages} messages at ${opts.connections} connections …`)
      const r = await runPass(world, {
        mode,
        messages,
        connections: opts.connections,
        warmup: Math.min(opts.warmup, Math.floor(messages / 2)),
        rssGrowthBoundBytes: opts.rssBoundMb * 1024 * 1024,
        nodes: opts.nodes,
        timeoutMs: opts.timeoutS * 1000,
        traceGc: opts.traceGc,
        heapGrowthBoundMb: opts.traceGc ? opts.heapBoundMb : undefined,
        progress: (line) => out(line),
        dnsFaults: opts.dnsFaults / 100,
      })
      reports.push(r)
      out()
      for (const line of formatPass(r)) out(line)
      out()
    }
  } finally {
    await world.close()
  }

  const sum = (k: keyof Tally): number => reports.reduce((s, r) => s + r.accounting.total[k], 0)
  const total = Object.fromEntries((['sent', 'delivered', 'quarantined', 'rejected', 'deferred', 'unknown', 'lost', 'duplicated', 'keptAfterRefusal'] as const).map((k) => [k, sum(k)])) as unknown as Tally
  const failures = reports.flatMap((r) => r.failures.map((f) => `mode=${r.mode}: ${f}`))
  if (opts.modes.length > 1) {
    for (const k of ['delivered', 'quarantined', 'rejected'] as const) if (!total[k]) failures.push(`no message was ${k} over the whole run`)
  }
  out('## Summary')
  out()
  for (const line of tallyTable([...reports.map((r) => [`mode=${r.mode}`, r.accounting.total] as const), ['total', total]])) out(line)
  out()
  for (const r of reports) {
    const growth = r.rss.end !== undefined && r.rss.warmup !== undefined ? r.rss.end - r.rss.warmup : undefined
    out(
      `- mode=${r.mode}: ${r.rate.toFixed(0)} msg/s over ${(r.wallMs / 1000).toFixed(1)} s; RSS ${mb(r.rss.warmup)} after warm-up -> ${mb(r.rss.end)} at the end ` +
        `(${growth === undefined ? 'n/a' : `${growth >= 0 ? '+' : ''}${mb(growth)}`}, bound +${mb(r.rss.boundBytes)}), peak ${mb(r.rss.peak)}` +
        (r.heap ? `; live heap ${r.heap.warmupMb ?? 'n/a'} -> ${r.heap.endMb ?? 'n/a'} MB (bound +${r.heap.boundMb ?? 'n/a'} MB)` : ''),
    )
  }
  out(`- whole run: ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${machine().loadavg}`)
  out(`- delivered + quarantined + rejected + deferred = ${total.delivered + total.quarantined + total.rejected + total.deferred} of ${total.sent} sent`)
  out(failures.length ? `\nFAILED:\n${failures.map((f) => `- ${f}`).join('\n')}` : '\nOK: every message accounted for, none lost, none duplicated, memory within its bounds')
  if (opts.json) {
    const figures = { machine: machine(), options: opts, passes: reports.map(({ raw: _raw, ...r }) => r), total, failures }
    fs.writeFileSync(opts.json, `${JSON.stringify(figures, null, 2)}\n`)
  }
  return failures.length ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`soak: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 1
  },
)
