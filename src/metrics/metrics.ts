/**
 * Prometheus metrics (prom-client), off unless `[metrics] enabled=true`.
 *
 * Every process that scans mail keeps its own figures in a ShopNoticeMetrics (a
 * registry of its own, never prom-client's global one). Who serves them:
 *
 * - one process (`smtp.ini` nodes=0): that process serves its own registry;
 * - cluster (nodes > 0): only the master listens. For each scrape it asks every
 *   worker over the cluster IPC channel for its figures (getMetricsAsJSON) and
 *   serves their sum (prom-client's AggregatorRegistry.aggregate), so one scrape
 *   gives the whole server. The master itself scans nothing and adds only
 *   `shop_notice_cluster_workers_unanswered`.
 *
 * Nothing here knows Haraka: src/plugin/metrics-hooks.ts registers the hooks, src/plugin/index.ts calls in.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { AggregatorRegistry, Counter, Gauge, Histogram, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client'

import type { CachedResolver, ResolverStats } from '../auth/resolver.js'
import type { ScanResult } from '../scan.js'
import type { Action } from '../verdict/score.js'

const PREFIX = 'shop_notice_'
const ACTIONS: readonly Action[] = ['accept', 'tag', 'quarantine', 'reject', 'defer']
const SKIP_REASONS = ['relaying', 'private_ip'] as const
const STEPS = ['parse', 'auth', 'detect', 'total'] as const
/** Seconds: a scan is milliseconds when DNS is cached, up to the DNS budget (10 s by default) when it is not. */
const SCAN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

type ResolverTotals = Pick<ResolverStats, 'hits' | 'misses' | 'inflightJoins' | 'errors' | 'timeouts'>
const ZERO: ResolverTotals = { hits: 0, misses: 0, inflightJoins: 0, errors: 0, timeouts: 0 }
const add = (a: ResolverTotals, b: ResolverTotals): ResolverTotals => ({
  hits: a.hits + b.hits,
  misses: a.misses + b.misses,
  inflightJoins: a.inflightJoins + b.inflightJoins,
  errors: a.errors + b.errors,
  timeouts: a.timeouts + b.timeouts,
})

/**
 * The DNS figures of the resolvers a process has used: a reload with other DNS
 * settings makes a new resolver, whose counts start at 0; the old one's are kept
 * here so that the counters never go down.
 */
class DnsTotals {
  #retired: ResolverTotals = ZERO
  #current: CachedResolver | undefined
  constructor(private readonly resolverOf: () => CachedResolver | undefined) {}
  read(): { totals: ResolverTotals; size: number } {
    const r = this.resolverOf()
    if (r !== this.#current) {
      if (this.#current) this.#retired = add(this.#retired, this.#current.stats)
      this.#current = r
    }
    return { totals: r ? add(this.#retired, r.stats) : this.#retired, size: r?.size ?? 0 }
  }
}

/** One process's figures. */
export class ShopNoticeMetrics {
  readonly registry = new Registry()
  readonly #scanned: Counter
  readonly #skipped: Counter<'reason'>
  readonly #verdicts: Counter<'verdict' | 'brand' | 'kind'>
  readonly #signals: Counter<'signal'>
  readonly #actions: Counter<'action'>
  readonly #duration: Histogram<'step'>
  readonly #reloads: Counter<'result'>

  /** `resolverOf` gives the resolver in use now (it changes when a reload changes the DNS settings). */
  constructor(resolverOf: () => CachedResolver | undefined) {
    const registers = [this.registry]
    const dns = new DnsTotals(resolverOf)
    this.#scanned = new Counter({ name: `${PREFIX}messages_scanned_total`, help: 'Messages scanned (every verdict, error included)', registers })
    this.#skipped = new Counter({
      name: `${PREFIX}messages_skipped_total`,
      help: 'Messages not scanned, by [skip] reason',
      labelNames: ['reason'],
      registers,
    })
    this.#verdicts = new Counter({
      name: `${PREFIX}verdicts_total`,
      help: 'Verdicts, by verdict, brand (registry id or -) and kind (or -)',
      labelNames: ['verdict', 'brand', 'kind'],
      registers,
    })
    this.#signals = new Counter({ name: `${PREFIX}signals_total`, help: 'Signals fired, by symbol', labelNames: ['signal'], registers })
    this.#actions = new Counter({ name: `${PREFIX}actions_total`, help: 'Actions taken, by action', labelNames: ['action'], registers })
    this.#duration = new Histogram({
      name: `${PREFIX}scan_duration_seconds`,
      help: 'Time spent per scan step: parse and auth run side by side, then detect; total is the whole hook',
      labelNames: ['step'],
      buckets: SCAN_BUCKETS,
      registers,
    })
    this.#reloads = new Counter({
      name: `${PREFIX}config_reloads_total`,
      help: 'Configuration reloads after a file changed, by result (failed: the last good configuration stayed)',
      labelNames: ['result'],
      registers,
    })
    const dnsCounter = (name: string, help: string, pick: (t: ResolverTotals) => number): Counter =>
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(pick(dns.read().totals))
        },
      })
    dnsCounter('dns_cache_hits_total', 'DNS lookups answered from the cache ("no such record" answers included)', (t) => t.hits)
    dnsCounter('dns_cache_misses_total', 'DNS lookups sent to the resolver', (t) => t.misses)
    dnsCounter('dns_cache_joins_total', 'DNS lookups that joined the same query already in flight', (t) => t.inflightJoins)
    dnsCounter('dns_errors_total', 'DNS lookups that failed for now (timeout, SERVFAIL, refused; never cached)', (t) => t.errors)
    dnsCounter('dns_timeouts_total', 'DNS lookups cut off by [dns] timeout_ms or the message budget message_timeout_ms', (t) => t.timeouts)
    new Gauge({
      name: `${PREFIX}dns_cache_entries`,
      help: 'DNS answers in the cache now',
      registers,
      collect() {
        this.set(dns.read().size)
      },
    })
    new Gauge({
      name: `${PREFIX}processes`,
      help: 'Processes whose figures this scrape holds (in cluster mode: the workers that answered)',
      registers,
    }).set(1)

    // the series a dashboard needs from the start, at 0
    for (const reason of SKIP_REASONS) this.#skipped.labels(reason).inc(0)
    for (const action of ACTIONS) this.#actions.labels(action).inc(0)
    for (const result of ['ok', 'failed']) this.#reloads.labels(result).inc(0)
    for (const step of STEPS) this.#duration.zero({ step })
  }

  /** One scanned message: its verdict, signals, action, and how long each step took. */
  scanned(result: ScanResult, action: Action, totalSeconds: number): void {
    this.#scanned.inc()
    this.#verdicts.labels(result.verdict, result.brand ?? '-', result.kind ?? '-').inc()
    for (const h of result.hits) this.#signals.labels(h.symbol).inc()
    this.#actions.labels(action).inc()
    // a failed scan's step times say nothing about the steps: only its total counts
    if (result.verdict !== 'error') {
      for (const step of ['parse', 'auth', 'detect'] as const) this.#duration.labels(step).observe(result.timings[step] / 1000)
    }
    this.#duration.labels('total').observe(totalSeconds)
  }

  skipped(reason: (typeof SKIP_REASONS)[number]): void {
    this.#skipped.labels(reason).inc()
  }

  reloaded(ok: boolean): void {
    this.#reloads.labels(ok ? 'ok' : 'failed').inc()
  }
}

// ---------------------------------------------------------------- cluster

/** The IPC messages between the master and its workers (node:cluster's channel). */
export const IPC_REQUEST = 'shop-notice.metrics.request'
export const IPC_REPLY = 'shop-notice.metrics.reply'

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[]
interface Request {
  event: typeof IPC_REQUEST
  id: number
}
interface Reply {
  event: typeof IPC_REPLY
  id: number
  metrics?: MetricsJson
  error?: string
}
const isRequest = (m: unknown): m is Request => (m as Request | null)?.event === IPC_REQUEST && typeof (m as Request).id === 'number'
const isReply = (m: unknown): m is Reply => (m as Reply | null)?.event === IPC_REPLY && typeof (m as Reply).id === 'number'

/** A worker's side of the channel: the part of `process` used. */
export interface WorkerChannel {
  on(ev: 'message', f: (m: unknown) => void): unknown
  off(ev: 'message', f: (m: unknown) => void): unknown
  send?(m: unknown): unknown
  connected?: boolean
}

/** In a worker: answers the master's requests with this process's figures. Returns the function that stops it. */
export function answerMaster(metrics: ShopNoticeMetrics, channel: WorkerChannel = process as WorkerChannel): () => void {
  const onMessage = (m: unknown): void => {
    if (!isRequest(m)) return
    const send = (reply: Reply): void => {
      // the master may be gone (shutdown): there is no one to answer
      if (channel.connected === false || !channel.send) return
      try {
        channel.send(reply)
      } catch {}
    }
    metrics.registry.getMetricsAsJSON().then(
      (json) => send({ event: IPC_REPLY, id: m.id, metrics: json }),
      (err: unknown) => send({ event: IPC_REPLY, id: m.id, error: err instanceof Error ? err.message : String(err) }),
    )
  }
  channel.on('message', onMessage)
  return () => channel.off('message', onMessage)
}

/** The master's side: the part of node:cluster used. */
export interface ClusterLike {
  readonly workers?: Record<string, { isConnected(): boolean; send(m: unknown): boolean } | undefined>
  on(ev: 'message', f: (worker: unknown, m: unknown) => void): unknown
  off(ev: 'message', f: (worker: unknown, m: unknown) => void): unknown
}

/** In the master: gathers the workers' figures for one scrape. */
export class ClusterCollector {
  #seq = 0
  readonly #pending = new Map<number, { replies: MetricsJson[]; left: number; done: () => void }>()
  readonly #onMessage = (_worker: unknown, m: unknown): void => {
    if (!isReply(m)) return
    const p = this.#pending.get(m.id)
    if (!p) return // a late answer to a scrape already served
    if (m.metrics) p.replies.push(m.metrics)
    if (--p.left === 0) p.done()
  }

  constructor(
    private readonly cluster: ClusterLike,
    private readonly timeoutMs = 2000,
  ) {
    cluster.on('message', this.#onMessage)
  }

  /** Asks every connected worker; resolves with the sum of those that answered within the timeout. */
  async collect(): Promise<Registry> {
    const id = ++this.#seq
    const workers = Object.values(this.cluster.workers ?? {}).filter((w) => w?.isConnected())
    const replies: MetricsJson[] = []
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), this.timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.#pending.delete(id)
        resolve()
      }
      const entry = { replies, left: 0, done }
      this.#pending.set(id, entry)
      // the answers come over IPC, in later turns of the event loop: counting first is safe
      for (const w of workers) {
        try {
          // send() may return false under backpressure, yet the message still goes
          w?.send({ event: IPC_REQUEST, id } satisfies Request)
          entry.left++
        } catch {} // a worker going away
      }
      if (entry.left === 0) done()
    })
    const unanswered = workers.length - replies.length
    const own = new Registry()
    new Gauge({
      name: `${PREFIX}cluster_workers_unanswered`,
      help: 'Workers that did not answer this scrape in time (their figures are missing from it)',
      registers: [own],
    }).set(unanswered)
    return Registry.merge([AggregatorRegistry.aggregate(replies), own])
  }

  close(): void {
    this.cluster.off('message', this.#onMessage)
  }
}

// ---------------------------------------------------------------- HTTP

export interface MetricsServer {
  readonly address: AddressInfo
  /** `http://host:port/metrics` */
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (and HEAD) from `registry()`; any other path is 404, any
 * other method 405. Resolves once listening; rejects if the address cannot be bound.
 */
export function startMetricsServer(host: string, port: number, registry: () => Promise<Registry>): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n')
      return
    }
    registry()
      .then(async (r) => {
        const body = await r.metrics()
        res.writeHead(200, { 'content-type': r.contentType, 'cache-control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : body)
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`)
      })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      const address = server.address() as AddressInfo
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
      resolve({
        address,
        url: `http://${shown}:${address.port}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}
