/**
 * src/metrics/metrics.ts: the figures one process keeps, the cluster channel (fake
 * workers on an EventEmitter, the real prom-client aggregation), and the HTTP
 * listener on 127.0.0.1 port 0. The real Haraka, single and cluster, is in
 * test/e2e/metrics.test.ts.
 */
import { EventEmitter } from 'node:events'
import http from 'node:http'
import t from 'tap'

import { isLoopbackHost, parseIni, parseListen } from '../../dist/src/config/settings.js'
import { ShopNoticeMetrics } from '../../dist/src/metrics/metrics.js'
import { ClusterCollector, IPC_REPLY, IPC_REQUEST, answerMaster } from '../../dist/src/metrics/cluster.js'
import { startMetricsServer } from '../../dist/src/metrics/server.js'
import type { CachedResolver } from '../../dist/src/auth/resolver.js'
import type { ScanResult } from '../../dist/src/scan.js'
import { parseExposition, sample } from '../helpers/prometheus'

const result = (over: Partial<ScanResult> = {}): ScanResult =>
  ({
    verdict: 'spoofed',
    brand: 'testshop',
    kind: 'order',
    score: 16,
    hits: [{ symbol: 'AUTH_NONE' }, { symbol: 'BRAND_NOT_AUTHENTICATED' }],
    auth: {},
    dnsTempfail: false,
    timings: { parse: 2, auth: 30, detect: 1 },
    ...over,
  }) as unknown as ScanResult

/** A stand-in for CachedResolver: the same object every time, as the plugin's state holds it. */
const fakeResolver = (hits: number, misses: number, size: number) =>
  ({ stats: { queries: 0, hits, misses, inflightJoins: 1, negativeHits: 0, errors: 2, timeouts: 1 }, size }) as unknown as CachedResolver

const text = async (m: ShopNoticeMetrics) => parseExposition(await m.registry.metrics())

t.test('one process: scans, skips, reloads and their labels', async (t) => {
  const m = new ShopNoticeMetrics(() => undefined)
  let s = await text(m)
  t.equal(sample(s, 'shop_notice_messages_scanned_total'), 0, 'nothing scanned yet')
  t.equal(sample(s, 'shop_notice_actions_total', { action: 'quarantine' }), 0, 'the action series exist from the start')
  t.equal(sample(s, 'shop_notice_config_reloads_total', { result: 'failed' }), 0)
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_count', { step: 'total' }), 0)
  t.equal(sample(s, 'shop_notice_processes'), 1)

  m.scanned(result(), 'quarantine', 0.04)
  m.scanned(result(), 'quarantine', 0.05)
  m.scanned(result({ verdict: 'verified', hits: [{ symbol: 'AUTH_DMARC_PASS' }] as never }), 'accept', 0.02)
  m.scanned(result({ verdict: 'none', brand: undefined, kind: undefined, hits: [] }), 'accept', 0.01)
  m.scanned(result({ verdict: 'error', brand: undefined, kind: undefined, hits: [], timings: { parse: 0, auth: 0, detect: 0 } }), 'accept', 0.003)
  m.skipped('relaying')
  m.reloaded(true)
  m.reloaded(false)
  m.reloaded(true)

  s = await text(m)
  t.equal(sample(s, 'shop_notice_messages_scanned_total'), 5)
  t.equal(sample(s, 'shop_notice_verdicts_total', { verdict: 'spoofed', brand: 'testshop', kind: 'order' }), 2)
  t.equal(sample(s, 'shop_notice_verdicts_total', { verdict: 'verified', brand: 'testshop', kind: 'order' }), 1)
  t.equal(sample(s, 'shop_notice_verdicts_total', { verdict: 'none', brand: '-', kind: '-' }), 1, 'no brand, no kind: -')
  t.equal(sample(s, 'shop_notice_verdicts_total', { verdict: 'error', brand: '-', kind: '-' }), 1)
  t.equal(sample(s, 'shop_notice_signals_total', { signal: 'AUTH_NONE' }), 2)
  t.equal(sample(s, 'shop_notice_signals_total', { signal: 'AUTH_DMARC_PASS' }), 1)
  t.equal(sample(s, 'shop_notice_actions_total', { action: 'quarantine' }), 2)
  t.equal(sample(s, 'shop_notice_actions_total', { action: 'accept' }), 3)
  t.equal(sample(s, 'shop_notice_messages_skipped_total', { reason: 'relaying' }), 1)
  t.equal(sample(s, 'shop_notice_messages_skipped_total', { reason: 'private_ip' }), 0)
  t.equal(sample(s, 'shop_notice_config_reloads_total', { result: 'ok' }), 2)
  t.equal(sample(s, 'shop_notice_config_reloads_total', { result: 'failed' }), 1)
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_count', { step: 'total' }), 5, 'every scan has a total')
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_count', { step: 'auth' }), 4, 'a failed scan has no step times')
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_sum', { step: 'auth' }), 0.12, 'milliseconds become seconds')
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_bucket', { step: 'auth', le: '0.025' }), 0, '30 ms is over 25 ms')
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_bucket', { step: 'auth', le: '0.05' }), 4)
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_bucket', { step: 'total', le: '+Inf' }), 5)
})

t.test('DNS figures come from the resolver in use, and never go down when a reload replaces it', async (t) => {
  let resolver: CachedResolver | undefined = fakeResolver(10, 4, 7)
  const m = new ShopNoticeMetrics(() => resolver)
  let s = await text(m)
  t.equal(sample(s, 'shop_notice_dns_cache_hits_total'), 10)
  t.equal(sample(s, 'shop_notice_dns_cache_misses_total'), 4)
  t.equal(sample(s, 'shop_notice_dns_cache_joins_total'), 1)
  t.equal(sample(s, 'shop_notice_dns_errors_total'), 2)
  t.equal(sample(s, 'shop_notice_dns_timeouts_total'), 1)
  t.equal(sample(s, 'shop_notice_dns_cache_entries'), 7)
  // the same resolver counts on: read again, not added twice
  ;(resolver.stats as { hits: number }).hits = 12
  s = await text(m)
  t.equal(sample(s, 'shop_notice_dns_cache_hits_total'), 12)

  resolver = fakeResolver(1, 1, 1) // a reload with other [dns] settings: a new, empty cache
  s = await text(m)
  t.equal(sample(s, 'shop_notice_dns_cache_hits_total'), 13, 'the old resolver counts are kept')
  t.equal(sample(s, 'shop_notice_dns_cache_misses_total'), 5)
  t.equal(sample(s, 'shop_notice_dns_cache_entries'), 1, 'the size is the cache in use now')
})

/** Fake cluster: the master's EventEmitter, and workers whose channel is a pair of emitters. */
function fakeCluster(n: number, opts: { silent?: number[] } = {}) {
  const master = new EventEmitter()
  const workers: Record<string, { isConnected(): boolean; send(m: unknown): boolean }> = {}
  const metrics: ShopNoticeMetrics[] = []
  const stops: (() => void)[] = []
  for (let i = 1; i <= n; i++) {
    const m = new ShopNoticeMetrics(() => undefined)
    metrics.push(m)
    const channel = new EventEmitter() as EventEmitter & { send(msg: unknown): boolean; connected: boolean }
    channel.connected = true
    const worker = {
      isConnected: () => true,
      send: (msg: unknown) => {
        setImmediate(() => channel.emit('message', structuredClone(msg)))
        return true
      },
    }
    channel.send = (msg: unknown) => {
      setImmediate(() => master.emit('message', worker, structuredClone(msg)))
      return true
    }
    workers[String(i)] = worker
    if (!opts.silent?.includes(i)) stops.push(answerMaster(m, channel))
  }
  return { cluster: Object.assign(master, { workers }), metrics, stop: () => stops.forEach((f) => f()) }
}

t.test('cluster: one scrape is the sum of every worker', async (t) => {
  const { cluster, metrics, stop } = fakeCluster(3)
  t.teardown(stop)
  metrics[0]!.scanned(result(), 'quarantine', 0.02)
  metrics[1]!.scanned(result(), 'quarantine', 0.02)
  metrics[1]!.scanned(result({ verdict: 'verified', hits: [] }), 'accept', 0.2)
  metrics[2]!.skipped('private_ip')
  metrics[2]!.reloaded(true)
  const collector = new ClusterCollector(cluster, 5000)
  t.teardown(() => collector.close())
  const s = parseExposition(await (await collector.collect()).metrics())
  t.equal(sample(s, 'shop_notice_processes'), 3, 'three workers answered')
  t.equal(sample(s, 'shop_notice_cluster_workers_unanswered'), 0)
  t.equal(sample(s, 'shop_notice_messages_scanned_total'), 3)
  t.equal(sample(s, 'shop_notice_verdicts_total', { verdict: 'spoofed', brand: 'testshop', kind: 'order' }), 2)
  t.equal(sample(s, 'shop_notice_actions_total', { action: 'accept' }), 1)
  t.equal(sample(s, 'shop_notice_messages_skipped_total', { reason: 'private_ip' }), 1)
  t.equal(sample(s, 'shop_notice_config_reloads_total', { result: 'ok' }), 1)
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_count', { step: 'total' }), 3, 'histograms add up')
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_bucket', { step: 'total', le: '0.025' }), 2)
  t.equal(sample(s, 'shop_notice_scan_duration_seconds_bucket', { step: 'total', le: '0.25' }), 3)
})

t.test('cluster: a worker that does not answer is counted, the others are served', async (t) => {
  const { cluster, metrics, stop } = fakeCluster(2, { silent: [2] })
  t.teardown(stop)
  metrics[0]!.scanned(result(), 'quarantine', 0.02)
  metrics[1]!.scanned(result(), 'quarantine', 0.02)
  const collector = new ClusterCollector(cluster, 50)
  t.teardown(() => collector.close())
  const s = parseExposition(await (await collector.collect()).metrics())
  t.equal(sample(s, 'shop_notice_cluster_workers_unanswered'), 1)
  t.equal(sample(s, 'shop_notice_processes'), 1)
  t.equal(sample(s, 'shop_notice_messages_scanned_total'), 1, "only the answering worker's figures")
})

t.test('cluster: no worker at all is an empty scrape, not an error', async (t) => {
  const collector = new ClusterCollector(Object.assign(new EventEmitter(), { workers: {} }), 50)
  t.teardown(() => collector.close())
  const s = parseExposition(await (await collector.collect()).metrics())
  t.equal(sample(s, 'shop_notice_cluster_workers_unanswered'), 0)
  t.equal(sample(s, 'shop_notice_messages_scanned_total'), undefined)
})

t.test('a worker ignores other IPC messages and stops answering when told', async (t) => {
  const m = new ShopNoticeMetrics(() => undefined)
  const sent: unknown[] = []
  const channel = Object.assign(new EventEmitter(), { connected: true, send: (x: unknown) => sent.push(x) })
  const stop = answerMaster(m, channel)
  channel.emit('message', { event: 'outbound.flush_queue' })
  channel.emit('message', { cmd: 'x' })
  channel.emit('message', null)
  channel.emit('message', { event: IPC_REQUEST, id: 7 })
  await new Promise((r) => setImmediate(r))
  t.equal(sent.length, 1)
  t.match(sent[0], { event: IPC_REPLY, id: 7, metrics: Array })
  stop()
  channel.emit('message', { event: IPC_REQUEST, id: 8 })
  await new Promise((r) => setImmediate(r))
  t.equal(sent.length, 1, 'no answer once stopped')
  t.equal(channel.listenerCount('message'), 0, 'its listener is removed')
})

const get = (url: string, method = 'GET') =>
  new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    http
      .request(url, { method, agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }))
      })
      .on('error', reject)
      .end()
  })

t.test('the HTTP listener: /metrics only, GET and HEAD only, closed on request', async (t) => {
  const m = new ShopNoticeMetrics(() => undefined)
  m.scanned(result(), 'tag', 0.01)
  const server = await startMetricsServer('127.0.0.1', 0, async () => m.registry)
  t.equal(server.address.address, '127.0.0.1')
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  const r = await get(server.url)
  t.equal(r.status, 200)
  t.match(r.type, /^text\/plain; version=0\.0\.4/, 'the Prometheus text format')
  t.equal(sample(parseExposition(r.body), 'shop_notice_actions_total', { action: 'tag' }), 1)
  t.equal((await get(server.url, 'HEAD')).body, '', 'HEAD: no body')
  t.equal((await get(server.url.replace('/metrics', '/'))).status, 404)
  t.equal((await get(`${server.url}?x=1`)).status, 200, 'a query string is ignored')
  t.equal((await get(server.url, 'POST')).status, 405)
  await server.close()
  const refused = await get(server.url).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e.code,
  )
  t.equal(refused, 'ECONNREFUSED', 'nothing listens after close()')
})

t.test('the HTTP listener: a failing source is a 500, a taken port a rejection', async (t) => {
  const server = await startMetricsServer('127.0.0.1', 0, () => Promise.reject(new Error('workers gone')))
  t.teardown(() => server.close())
  const r = await get(server.url)
  t.equal(r.status, 500)
  t.match(r.body, /workers gone/)
  const err = await startMetricsServer('127.0.0.1', server.address.port, async () => new ShopNoticeMetrics(() => undefined).registry).then(
    async (s) => {
      await s.close()
      return undefined
    },
    (e: NodeJS.ErrnoException) => e,
  )
  t.equal(err?.code, 'EADDRINUSE')
})

t.test('[metrics] configuration', async (t) => {
  const d = parseIni({}).value.metrics
  t.same(d, { enabled: false, listen: '127.0.0.1:9464', allow_remote: false }, 'off by default, loopback')
  t.same(parseIni({ metrics: { enabled: true, listen: '[::1]:9100' } }).value.metrics, { enabled: true, listen: '[::1]:9100', allow_remote: false })
  t.equal(parseIni({ metrics: { listen: 'localhost:0' } }).value.metrics.listen, 'localhost:0')
  t.same(parseIni({ metrics: { listen: '0.0.0.0:9464', allow_remote: true } }).value.metrics.listen, '0.0.0.0:9464', 'beyond loopback when allowed')

  const refused = (raw: Record<string, unknown>): string => {
    try {
      parseIni({ metrics: raw }, '/etc/haraka/config/shop-notice.ini')
      return ''
    } catch (err) {
      return (err as Error).message
    }
  }
  t.match(refused({ listen: '0.0.0.0:9464' }), /^\/etc\/haraka\/config\/shop-notice\.ini: \[metrics\] listen: 0\.0\.0\.0:9464 is not a loopback address.*allow_remote=true/)
  t.match(refused({ listen: '[::]:9464' }), /\[metrics\] listen: \[::\]:9464 is not a loopback address/)
  t.match(refused({ listen: '192.0.2.1:9464' }), /not a loopback address/)
  for (const bad of ['9464', 'metrics.example:9464', '127.0.0.1', '127.0.0.1:70000', '::1:9464', '300.0.0.1:80']) {
    t.match(refused({ listen: bad }), /\[metrics\] listen: expected host:port with an IP address or localhost/, bad)
  }
  t.match(refused({ enabled: 'yes' }), /\[metrics\] enabled: expected true or false/)
})

t.test('parseListen and isLoopbackHost', async (t) => {
  t.same(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 })
  t.same(parseListen('[::1]:0'), { host: '::1', port: 0 })
  t.same(parseListen('LOCALHOST:80'), { host: 'localhost', port: 80 })
  t.equal(parseListen('[::1]'), undefined)
  for (const h of ['127.0.0.1', '127.9.9.9', '::1', 'localhost']) t.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2']) t.notOk(isLoopbackHost(h), h)
})
