/**
 * Metrics end to end: a real Haraka with `[metrics] enabled=true` (listen port 0,
 * read back from the log), in one process and in cluster mode with two workers;
 * mail sent over SMTP, then ONE scrape, whose counters must add up to what was
 * sent. DNS is a loopback fixture; test/helpers/dns-guard.cjs keeps every
 * node:dns query of the Haraka processes on it.
 *
 * METRICS_E2E_SHOW=1 prints the cluster scrape.
 */
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import t, { type Test } from 'tap'

import { type Haraka, startHaraka } from '../helpers/haraka'
import { type Exposition, parseExposition, sample, sum } from '../helpers/prometheus'
import { sendMail } from '../helpers/smtp'

interface DnsFixture {
  readonly port: number
  close(): Promise<void>
}
const fixtures = require('haraka-test-fixtures') as { dns: { start(zones: Record<string, unknown>): Promise<DnsFixture> } }

const PLAIN = 'plain.example'
const ATTACKER = 'attacker.example' // NXDOMAIN
const ZONES = {
  [PLAIN]: { txt: ['v=spf1 ip4:127.0.0.1 -all'], a: ['127.0.0.1'] },
  [`_dmarc.${PLAIN}`]: { txt: ['v=DMARC1; p=none'] },
}

let seq = 0
const message = (from: string, subject: string, body: string): string =>
  [
    `From: ${from}`,
    'To: customer@recipient.example',
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <metrics.${process.pid}.${++seq}@test.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    body,
  ].join('\r\n')

/** Not a notice: verdict none, delivered. */
const plain = () => ({
  from: `hanako@${PLAIN}`,
  to: ['customer@recipient.example'],
  data: message(`Hanako <hanako@${PLAIN}>`, 'Lunch on Friday?', 'Shall we meet at noon on Friday?\n'),
})
/** A display-name spoof of a package brand: verdict spoofed, brand amazon, kind order, quarantined. */
const spoof = () => ({
  from: `bounce@${ATTACKER}`,
  to: ['customer@recipient.example'],
  data: message(
    `"Amazon.co.jp" <account-update@${ATTACKER}>`,
    'Your order confirmation',
    'Thank you for your order.\nOrder number: 503-1234567-1234567\nTotal: 12,800 JPY\n',
  ),
})

const CONNECTIONS = 6 // each sends one plain message and one spoof

const ini = (dnsPort: number) => `[dns]
servers=127.0.0.1:${dnsPort}
timeout_ms=600
message_timeout_ms=2000

[metrics]
enabled=true
listen=127.0.0.1:0
`

const METRICS_AT = /\[shop-notice\] metrics at (http:\/\/127\.0\.0\.1:(\d+)\/metrics)/

/** Waits (bounded) until `f` gives something; polls Haraka's log or the process table, not the clock. */
async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function scrape(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 10_000 }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }))
      })
      .on('error', reject)
  })
}

const refused = (url: string): Promise<string | undefined> =>
  scrape(url).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e.code,
  )

async function sendAll(t: Test, h: Haraka): Promise<void> {
  for (let i = 0; i < CONNECTIONS; i++) {
    // one connection at a time: cluster's round-robin hands them to the workers in turn
    const replies = await sendMail(h.port, [plain(), spoof()], { timeoutMs: 15_000 })
    t.same(
      replies.map((r) => r.final?.code),
      [250, 250],
      `connection ${i + 1}: both accepted`,
    )
  }
}

/** The counters one scrape must show after sendAll(). */
function checkCounts(t: Test, e: Exposition): void {
  const total = CONNECTIONS * 2
  t.equal(sample(e, 'shop_notice_messages_scanned_total'), total, `every message sent was counted once: ${total}`)
  t.equal(sum(e, 'shop_notice_verdicts_total'), total, 'the verdicts add up to the messages')
  t.equal(sample(e, 'shop_notice_verdicts_total', { verdict: 'none', brand: '-', kind: '-' }), CONNECTIONS)
  t.equal(sample(e, 'shop_notice_verdicts_total', { verdict: 'spoofed', brand: 'amazon', kind: 'order' }), CONNECTIONS)
  t.equal(sample(e, 'shop_notice_actions_total', { action: 'quarantine' }), CONNECTIONS)
  t.equal(sample(e, 'shop_notice_actions_total', { action: 'accept' }), CONNECTIONS)
  t.equal(sample(e, 'shop_notice_signals_total', { signal: 'BRAND_DISPLAY_NAME_MISMATCH' }), CONNECTIONS)
  t.equal(sample(e, 'shop_notice_scan_duration_seconds_count', { step: 'total' }), total)
  t.equal(sample(e, 'shop_notice_scan_duration_seconds_count', { step: 'auth' }), total)
  t.equal(sample(e, 'shop_notice_scan_duration_seconds_bucket', { step: 'total', le: '+Inf' }), total)
  t.ok((sample(e, 'shop_notice_dns_cache_misses_total') ?? 0) > 0, 'DNS queries were sent')
  t.ok((sample(e, 'shop_notice_dns_cache_hits_total') ?? 0) > 0, 'and answers came from the cache')
  t.ok((sample(e, 'shop_notice_dns_cache_entries') ?? 0) > 0, 'the cache holds answers')
  t.equal(sample(e, 'shop_notice_config_reloads_total', { result: 'failed' }), 0)
  t.equal(e.types.get('shop_notice_scan_duration_seconds'), 'histogram')
  t.equal(e.types.get('shop_notice_verdicts_total'), 'counter')
}

let dns: DnsFixture
/** DNS queries one process sent for the mail of sendAll() */
let singleProcessMisses: number | undefined
t.before(async () => {
  dns = await fixtures.dns.start(ZONES)
})
t.teardown(async () => {
  await dns?.close()
})

t.test('one process (nodes=0): scrape after mail, reloads counted, listener gone with Haraka', async (t) => {
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: { 'shop-notice.ini': ini(dns.port) },
  })
  t.teardown(() => h.stop())
  const url = (await until('the metrics listener', () => METRICS_AT.exec(h.output()) ?? undefined))[1]!
  t.notMatch(h.output(), /\(the sum of every worker\)/, 'serves its own figures')

  const before = parseExposition((await scrape(url)).body)
  t.equal(sample(before, 'shop_notice_messages_scanned_total'), 0, 'nothing scanned before mail')

  await sendAll(t, h)
  t.equal(h.delivered().length, CONNECTIONS, 'the plain messages were delivered')
  t.equal(h.quarantined().length, CONNECTIONS, 'the spoofs were quarantined')

  const r = await scrape(url)
  t.equal(r.status, 200)
  t.match(r.type, /^text\/plain; version=0\.0\.4/)
  const e = parseExposition(r.body)
  checkCounts(t, e)
  t.equal(sample(e, 'shop_notice_processes'), 1)
  t.equal(sample(e, 'shop_notice_cluster_workers_unanswered'), undefined, 'no cluster figures in one process')
  singleProcessMisses = sample(e, 'shop_notice_dns_cache_misses_total')

  // a live reload of the admin's file: good, then broken (the last good configuration stays)
  const file = path.join(h.dir, 'config', 'shop-notice.ini')
  fs.writeFileSync(file, `${ini(dns.port)}\n[actions]\nmode=monitor\n`)
  await until('a reload', () => (/configuration reloaded: mode=monitor/.test(h.output()) ? true : undefined))
  fs.writeFileSync(file, `${ini(dns.port)}\n[actions]\nmode=delete\n`)
  await until('a failed reload', () => (/configuration not reloaded/.test(h.output()) ? true : undefined))
  const after = parseExposition((await scrape(url)).body)
  t.ok((sample(after, 'shop_notice_config_reloads_total', { result: 'ok' }) ?? 0) >= 1, 'the good reload is counted')
  t.ok((sample(after, 'shop_notice_config_reloads_total', { result: 'failed' }) ?? 0) >= 1, 'the failed one too')
  t.equal(sample(after, 'shop_notice_messages_scanned_total'), CONNECTIONS * 2, 'reloads keep the counts')

  t.notMatch(h.output(), /DNS-GUARD/, 'DNS stayed on loopback')
  await h.stop()
  t.equal(await refused(url), 'ECONNREFUSED', 'nothing listens once Haraka stopped')
})

t.test('one process, graceful shutdown: the plugin closes its listener', async (t) => {
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      'shop-notice.ini': ini(dns.port),
      'smtp.ini': 'listen=127.0.0.1:0\nnodes=0\ngraceful_shutdown=true\nforce_shutdown_timeout=30\n',
    },
  })
  t.teardown(() => h.stop())
  const url = (await until('the metrics listener', () => METRICS_AT.exec(h.output()) ?? undefined))[1]!
  t.equal((await scrape(url)).status, 200)
  process.kill(h.pid, 'SIGINT')
  await until('the plugins to shut down', () => (/\[plugins\] Shutting down/.test(h.output()) ? true : undefined))
  const code = await until('the listener to close', async () => (await refused(url)) ?? undefined)
  t.equal(code, 'ECONNREFUSED', 'the metrics listener is closed')
  await until('Haraka to exit', () => (isAlive(h.pid) ? undefined : true), 25_000)
  t.notMatch(h.output(), /Failed to shutdown naturally/, 'Haraka ended by itself: nothing of ours kept it running')
})

t.test('cluster (nodes=2): one scrape of the master sums both workers', async (t) => {
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      'shop-notice.ini': ini(dns.port),
      'smtp.ini': 'listen=127.0.0.1:0\nnodes=2\nforce_shutdown_timeout=2\n',
    },
  })
  t.teardown(() => h.stop())
  const url = (await until('the metrics listener', () => METRICS_AT.exec(h.output()) ?? undefined))[1]!
  t.match(h.output(), /metrics at \S+ \(the sum of every worker\)/, 'the master serves the sum')
  t.equal(h.output().match(METRICS_AT_ALL)?.length, 1, 'one listener: the workers do not listen')
  // round-robin hands connections only to workers that listen: wait for both
  await until('both workers to listen', () => ((h.output().match(/worker \d+ listening on/g) ?? []).length >= 2 ? true : undefined), 30_000)
  const workerPids = await until('two workers', () => {
    const pids = [...h.output().matchAll(/worker started.*?pid[=:\s"]+(\d+)/g)].map((m) => Number(m[1]))
    return pids.length >= 2 ? pids : undefined
  })

  await sendAll(t, h)
  t.equal(h.delivered().length, CONNECTIONS)
  t.equal(h.quarantined().length, CONNECTIONS)

  const r = await scrape(url)
  t.equal(r.status, 200)
  const e = parseExposition(r.body)
  checkCounts(t, e)
  t.equal(sample(e, 'shop_notice_processes'), 2, 'both workers answered')
  // each worker has its own DNS cache and asks for each name once: twice the one process's misses
  // means that both workers scanned mail and that both are in the sum
  if (singleProcessMisses !== undefined) {
    t.equal(sample(e, 'shop_notice_dns_cache_misses_total'), 2 * singleProcessMisses, 'both workers scanned, and both are in the sum')
  }
  t.equal(sample(e, 'shop_notice_cluster_workers_unanswered'), 0)
  if (process.env.METRICS_E2E_SHOW) t.comment(r.body)

  t.notMatch(h.output(), /DNS-GUARD/, 'DNS stayed on loopback')
  await h.stop()
  t.equal(await refused(url), 'ECONNREFUSED', 'nothing listens once Haraka stopped')
  await until('the workers to exit', () => (workerPids.every((pid) => !isAlive(pid)) ? true : undefined))
  t.pass('no worker is left')
})

const METRICS_AT_ALL = new RegExp(METRICS_AT.source, 'g')
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
