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
 * cluster.ts carries the figures between the processes, server.ts serves them over HTTP.
 * Nothing here knows Haraka: src/plugin/metrics-hooks.ts registers the hooks, src/plugin/index.ts calls in.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

import type { CachedResolver, ResolverStats } from '../auth/resolver.js'
import type { ScanResult } from '../scan.js'
import type { Action } from '../verdict/score.js'

export const PREFIX = 'shop_notice_'
const ACTIONS: readonly Action[] = ['accept', 'tag', 'quarantine', 'reject', 'defer']
const SKIP_REASONS = ['relaying', 'private_ip'] as const
const STEPS = ['parse', 'auth', 'detect', 'store', 'total'] as const
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

/** The incidents a scan's hits name, each once: [brand, since]. */
export function incidentsHit(result: Pick<ScanResult, 'hits'>): [string, string][] {
  const seen = new Map<string, [string, string]>()
  for (const h of result.hits) {
    if (h.symbol !== 'BRAND_INCIDENT' && h.symbol !== 'BRAND_INCIDENT_DATA_REQUEST') continue
    const brand = h.options[0]
    const since = h.options.find((o) => o.startsWith('since='))?.slice('since='.length)
    if (brand && since) seen.set(`${brand}\n${since}`, [brand, since])
  }
  return [...seen.values()]
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
  readonly #incidents: Counter<'brand' | 'since'>
  readonly #storeFailures: Counter<'backend' | 'op' | 'reason'>

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
      help: 'Time spent per scan step: parse and auth run side by side, then detect; store is the wait for the state store (authenticated notices only); total is the whole hook',
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
    this.#incidents = new Counter({
      name: `${PREFIX}incident_hits_total`,
      help: 'Messages in the name of a brand with an incident in force (BRAND_INCIDENT, BRAND_INCIDENT_DATA_REQUEST), by brand and the incident\'s since day',
      labelNames: ['brand', 'since'],
      registers,
    })
    this.#storeFailures = new Counter({
      name: `${PREFIX}store_failures_total`,
      help: 'State store calls that failed (the message was scanned as if nothing were remembered), by backend, operation (open, recall, learn, prune) and reason (timeout, error, unavailable)',
      labelNames: ['backend', 'op', 'reason'],
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
    for (const [brand, since] of incidentsHit(result)) this.#incidents.labels(brand, since).inc()
    this.#actions.labels(action).inc()
    // a failed scan's step times say nothing about the steps: only its total counts
    if (result.verdict !== 'error') {
      for (const step of ['parse', 'auth', 'detect'] as const) this.#duration.labels(step).observe(result.timings[step] / 1000)
      if (result.timings.store !== undefined) this.#duration.labels('store').observe(result.timings.store / 1000)
    }
    this.#duration.labels('total').observe(totalSeconds)
  }

  skipped(reason: (typeof SKIP_REASONS)[number]): void {
    this.#skipped.labels(reason).inc()
  }

  storeFailed(backend: string, op: string, reason: string): void {
    this.#storeFailures.labels(backend, op, reason).inc()
  }

  reloaded(ok: boolean): void {
    this.#reloads.labels(ok ? 'ok' : 'failed').inc()
  }
}
