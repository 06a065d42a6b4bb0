/**
 * The measuring side of `npm run bench`, one process per part so that its CPU time
 * and memory are its own: started by bench/run.ts with `fork`, it receives a task,
 * does it, and sends the figures back over IPC. The loopback DNS server runs in
 * the parent, so its work is not counted here.
 *
 * - scan:   in-process scan() of the corpus and of generated notices, warm DNS:
 *           CPU per message of the whole scan and of each step alone;
 * - mix:    a cold cache, then a skewed sender mix: lookups, cache hits, latency;
 * - memory: 100,000 scans over the mix and a long tail of one-off domains: RSS and
 *           heap after warm-up and as it goes, and what the DNS cache holds;
 * - hostile: the hostile inputs of lib/hostile.ts at two sizes: CPU ms, bound, growth.
 */
import crypto from 'node:crypto'

import { type AuthFacts, authenticateMessage } from '../src/auth/authenticate.js'
import type { Settings } from '../src/config/settings.js'
import { type MessageFacts, readMessage } from '../src/message/parse.js'
import { CachedResolver, type ResolverStats } from '../src/auth/resolver.js'
import { decide, scan } from '../src/scan.js'
import { measureHostile } from './lib/hostile.js'
import { cpuSince, percentile } from './lib/stats.js'
import { applyLibraryFixes } from './lib/what-if.js'
import { AUTHSERV_ID, type Sample, benchSettings, noticeSet, oneOff, readCorpus, senderMix, senders } from './lib/world.js'

export interface SetSpec {
  readonly name: string
  /** a corpus folder, or generated notices of `bytes` from `domains` senders */
  readonly corpus?: string
  readonly bytes?: number
  readonly count?: number
  readonly domains?: number
}

export type Task =
  | {
      readonly kind: 'scan'
      readonly dnsPort: number
      readonly privateKey: string
      readonly rounds: number
      readonly sets: readonly SetSpec[]
      /** with the library fixes of lib/what-if.ts applied in this process */
      readonly whatIf?: boolean
    }
  | { readonly kind: 'floors'; readonly privateKey: string }
  | {
      readonly kind: 'mix'
      readonly dnsPort: number
      readonly privateKey: string
      readonly domains: number
      readonly messages: number
      readonly concurrency: number
      readonly bytes: number
    }
  | {
      readonly kind: 'memory'
      readonly dnsPort: number
      readonly privateKey: string
      readonly domains: number
      readonly messages: number
      readonly warmup: number
      /** every Nth message comes from a domain never seen before */
      readonly oneOffEvery: number
      readonly concurrency: number
      readonly bytes: number
      readonly cacheSize: number
    }
  | { readonly kind: 'hostile'; readonly rounds: number }

export interface StepRound {
  /** CPU milliseconds per message */
  readonly full: number
  /** messages per second, one at a time, wall clock */
  readonly rate: number
  readonly parse: number
  readonly auth: number
  readonly detect: number
}

export interface SetResult {
  readonly name: string
  readonly messages: number
  readonly meanBytes: number
  readonly rounds: readonly StepRound[]
  readonly verdicts: Readonly<Record<string, number>>
  /** what mailauth found, so that a reader can see it really ran: `dkim=pass` → count */
  readonly authResults: Readonly<Record<string, number>>
  /** DNS lookups per message in the measured rounds, and how many left the cache */
  readonly lookupsPerMessage: number
  readonly missesInRounds: number
}

export interface MixResult {
  readonly messages: number
  readonly domains: number
  readonly distinctDomains: number
  readonly stats: ResolverStats
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly wallMs: number
}

export interface MemoryPoint {
  readonly messages: number
  readonly rssBytes: number
  readonly heapUsedBytes: number
  /** V8 heap reserved, and memory outside it (Buffers, ArrayBuffers) */
  readonly heapTotalBytes: number
  readonly externalBytes: number
  readonly cacheEntries: number
}

export interface MemoryResult {
  readonly points: readonly MemoryPoint[]
  readonly cacheMax: number
  /** heap the full cache held (measured by clearing it), and per entry */
  readonly cacheBytes: number
  readonly bytesPerEntry: number
  readonly stats: ResolverStats
  readonly wallMs: number
}

const resolverFor = (dnsPort: number, cacheSize?: number): CachedResolver =>
  new CachedResolver({ servers: [`127.0.0.1:${dnsPort}`], timeoutMs: 2000, ...(cacheSize ? { cacheSize } : {}) })

const MESSAGE_BUDGET_MS = 10_000

/** Runs `fn(i)` for i < n with at most `concurrency` at once. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) await fn(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
}

const tally = (m: Record<string, number>, key: string): void => {
  m[key] = (m[key] ?? 0) + 1
}

async function loadSet(spec: SetSpec, settings: Settings, privateKey: string): Promise<Sample[]> {
  if (spec.corpus) return readCorpus(spec.corpus)
  return noticeSet(senders(settings, spec.domains ?? 20), spec.domains ?? 20, spec.count ?? 200, spec.bytes ?? 6144, privateKey)
}

async function measureSet(spec: SetSpec, settings: Settings, resolver: CachedResolver, privateKey: string, rounds: number): Promise<SetResult> {
  const samples = await loadSet(spec, settings, privateKey)
  const opts = (): Parameters<typeof scan>[2] => ({ settings, authservId: AUTHSERV_ID, resolve: resolver.forMessage(MESSAGE_BUDGET_MS) })
  // warm-up: DNS answers cached, code compiled; the facts kept for the detection-only step
  const verdicts: Record<string, number> = {}
  const authResults: Record<string, number> = {}
  const facts: MessageFacts[] = []
  const auths: AuthFacts[] = []
  for (const s of samples) {
    const r = await scan(s.raw, s.ctx, opts())
    tally(verdicts, r.verdict)
    tally(authResults, `spf=${r.auth.spf.result}`)
    tally(authResults, `dmarc=${r.auth.dmarc.result}`)
    for (const d of r.auth.dkim) tally(authResults, `dkim=${d.result}`)
    if (!r.auth.dkim.length) tally(authResults, 'dkim=none')
    facts.push(await readMessage(s.raw, settings.limits.max_scan_bytes))
    auths.push(r.auth)
  }

  const n = samples.length
  const before = { ...resolver.stats }
  const out: StepRound[] = []
  for (let round = 0; round < rounds; round++) {
    let c = process.cpuUsage()
    const t0 = performance.now()
    for (const s of samples) await scan(s.raw, s.ctx, opts())
    const wall = performance.now() - t0
    const full = cpuSince(c) / n

    c = process.cpuUsage()
    for (const s of samples) await readMessage(s.raw, settings.limits.max_scan_bytes)
    const parse = cpuSince(c) / n

    c = process.cpuUsage()
    for (const s of samples) await authenticateMessage(s.raw, s.ctx, resolver.forMessage(MESSAGE_BUDGET_MS), AUTHSERV_ID)
    const auth = cpuSince(c) / n

    c = process.cpuUsage()
    for (let i = 0; i < n; i++) decide(facts[i]!, auths[i]!, settings, samples[i]!.ctx.sender)
    const detect = cpuSince(c) / n

    out.push({ full, rate: (n * 1000) / wall, parse, auth, detect })
  }
  return {
    name: spec.name,
    messages: n,
    meanBytes: Math.round(samples.reduce((s, x) => s + x.raw.length, 0) / n),
    rounds: out,
    verdicts,
    authResults,
    lookupsPerMessage: (resolver.stats.queries - before.queries) / (2 * rounds * n),
    missesInRounds: resolver.stats.misses - before.misses,
  }
}

async function runScan(task: Extract<Task, { kind: 'scan' }>): Promise<SetResult[]> {
  if (task.whatIf) applyLibraryFixes()
  const settings = benchSettings()
  const resolver = resolverFor(task.dnsPort)
  const results: SetResult[] = []
  for (const spec of task.sets) results.push(await measureSet(spec, settings, resolver, task.privateKey, task.rounds))
  return results
}

async function runMix(task: Extract<Task, { kind: 'mix' }>): Promise<MixResult> {
  const settings = benchSettings()
  const mix = await senderMix(settings, task.domains, task.messages, task.bytes, task.privateKey)
  const resolver = resolverFor(task.dnsPort)
  const latencies = new Float64Array(task.messages)
  const t0 = performance.now()
  await pool(task.messages, task.concurrency, async (i) => {
    const s = mix.templates[mix.order[i]!]!
    const t = performance.now()
    const r = await scan(s.raw, s.ctx, { settings, authservId: AUTHSERV_ID, resolve: resolver.forMessage(MESSAGE_BUDGET_MS) })
    latencies[i] = performance.now() - t
    if (r.verdict === 'error') throw new Error(`scan error on ${s.name}: ${r.error}`)
  })
  return {
    messages: task.messages,
    domains: task.domains,
    distinctDomains: new Set(mix.order).size,
    stats: { ...resolver.stats },
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) },
    wallMs: performance.now() - t0,
  }
}

async function runMemory(task: Extract<Task, { kind: 'memory' }>): Promise<MemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('memory: run with --expose-gc')
  const settings = benchSettings()
  const mix = await senderMix(settings, task.domains, Math.min(task.messages, 100_000), task.bytes, task.privateKey)
  const resolver = resolverFor(task.dnsPort, task.cacheSize)
  const points: MemoryPoint[] = []
  const point = (messages: number): void => {
    gc()
    const m = process.memoryUsage()
    points.push({ messages, rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, cacheEntries: resolver.size })
  }
  const every = Math.max(1, Math.round(task.messages / 10))
  let done = 0
  const t0 = performance.now()
  let oneOffs = 0
  await pool(task.messages, task.concurrency, async (i) => {
    const s = task.oneOffEvery > 0 && i % task.oneOffEvery === task.oneOffEvery - 1 ? oneOff(++oneOffs, task.bytes) : mix.templates[mix.order[i % mix.order.length]!]!
    const r = await scan(s.raw, s.ctx, { settings, authservId: AUTHSERV_ID, resolve: resolver.forMessage(MESSAGE_BUDGET_MS) })
    if (r.verdict === 'error') throw new Error(`scan error on ${s.name}: ${r.error}`)
    done++
    if (done === task.warmup || (done > task.warmup && done % every === 0) || done === task.messages) point(done)
  })
  const wallMs = performance.now() - t0
  gc()
  const full = process.memoryUsage().heapUsed
  resolver.clear()
  gc()
  const cacheBytes = Math.max(0, full - process.memoryUsage().heapUsed)
  const entries = points.at(-1)?.cacheEntries ?? 0
  return {
    points,
    cacheMax: task.cacheSize,
    cacheBytes,
    bytesPerEntry: entries ? cacheBytes / entries : 0,
    stats: { ...resolver.stats },
    wallMs,
  }
}

export interface Floors {
  /** one RSA-2048 rsa-sha256 verification, as a DKIM signature needs */
  readonly rsaVerifyUs: number
  /** SHA-256 of 6 KB and of 60 KB (the body hash) */
  readonly sha256SixKbUs: number
  readonly sha256SixtyKbUs: number
  /** a DKIM key record's public key made into a KeyObject, as mailauth does for every signature */
  readonly keyParseUs: number
}

/** The cost of the cryptography a DKIM check cannot avoid: the floor under authentication. */
function runFloors(task: Extract<Task, { kind: 'floors' }>): Floors {
  const privateKey = crypto.createPrivateKey(task.privateKey)
  const publicDer = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' })
  const publicKey = crypto.createPublicKey({ key: publicDer, format: 'der', type: 'spki' })
  const header = Buffer.from('from:Shop <order@shop.example>\r\nsubject:Your order\r\ndkim-signature:v=1; a=rsa-sha256; b=')
  const signature = crypto.sign('sha256', header, privateKey)
  const six = crypto.randomBytes(6 * 1024)
  const sixty = crypto.randomBytes(60 * 1024)
  const usPer = (n: number, f: () => unknown): number => {
    for (let i = 0; i < Math.min(200, n); i++) f()
    const c = process.cpuUsage()
    for (let i = 0; i < n; i++) f()
    return (cpuSince(c) * 1000) / n
  }
  return {
    rsaVerifyUs: usPer(2000, () => crypto.verify('sha256', header, publicKey, signature)),
    sha256SixKbUs: usPer(5000, () => crypto.createHash('sha256').update(six).digest()),
    sha256SixtyKbUs: usPer(2000, () => crypto.createHash('sha256').update(sixty).digest()),
    keyParseUs: usPer(2000, () => crypto.createPublicKey({ key: publicDer, format: 'der', type: 'spki' })),
  }
}

async function run(task: Task): Promise<unknown> {
  switch (task.kind) {
    case 'floors':
      return runFloors(task)
    case 'scan':
      return runScan(task)
    case 'mix':
      return runMix(task)
    case 'memory':
      return runMemory(task)
    case 'hostile':
      return measureHostile(task.rounds)
  }
}

if (require.main === module) {
  if (!process.send) {
    console.error('bench/child: started by bench/run.ts (npm run bench), not by hand')
    process.exit(2)
  }
  process.once('message', (task: Task) => {
    run(task).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (err: unknown) => process.send!({ ok: false, error: (err as Error)?.stack ?? String(err) }, () => process.exit(1)),
    )
  })
}
