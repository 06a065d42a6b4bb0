/**
 * The Haraka boundary: the only file that knows Haraka. Everything it decides
 * comes from scan() and actionFor(); here it is read from and written to the
 * transaction. No hook ever throws into Haraka: an internal error lets the
 * message through with the verdict `error`, and is logged.
 *
 * Haraka copies these exports onto its plugin object, so `this` is the plugin.
 */
import cluster from 'node:cluster'
import fs from 'node:fs'
import path from 'node:path'

import constants from 'haraka-constants'
import DSN from 'haraka-dsn'

import { type HarakaConfig, type Settings, harakaSource, loadSettings, parseListen } from './config.js'
import { type HarakaHeader, removeFields, removeUnparsedLines, rewriteFirstField } from './haraka-header.js'
import { AR_HEADER, VERDICT_HEADER, formatAuthResults, formatVerdict, isForgedLine, isOurAuthResults, prefixSubject } from './headers.js'
import { type ClusterLike, ClusterCollector, type MetricsServer, ShopNoticeMetrics, answerMaster, startMetricsServer } from './metrics.js'
import { QuarantineStore, RELEASE_HEADER, buildSidecar, quarantineDirOf, writeSidecar } from './quarantine.js'
import { CachedResolver } from './resolver.js'
import { type ScanResult, errorResult, scan } from './scan.js'
import { type Action, actionFor } from './verdict.js'

export { refuse_cut_headers } from './plugin-guards.js'

/** Haraka's hook callback; a DSN object as msg brings its own reply code and enhanced status */
type Next = (code?: number, msg?: string | object) => void

interface Header extends HarakaHeader {
  get_all(name: string): string[]
  remove(name: string): void
}

/** @haraka/email-address: `address` is a string in Haraka 3.3, a method in older releases */
type Address = { address: string | (() => string) }

interface Transaction {
  uuid: string
  header: Header
  mail_from?: Address | null
  rcpt_to?: Address[]
  notes: Record<string, unknown> & { set?(path: string, value: unknown): void }
  results: { add(plugin: unknown, obj: Record<string, unknown>): void }
  message_stream: {
    get_data(cb: (buf: Buffer) => void): void
    once(ev: 'error', cb: (err: Error) => void): void
    removeListener(ev: 'error', cb: (err: Error) => void): void
  }
  add_leading_header(name: string, value: string): void
  remove_header(name: string): void
}

interface Connection {
  uuid: string
  transaction?: Transaction | null
  relaying: boolean
  remote: { ip: string | null; host?: string | null; is_private?: boolean }
  local: { host?: string }
  hello: { host: string | null }
  notes: Record<string, unknown>
  loginfo(plugin: unknown, msg: string): void
  logwarn(plugin: unknown, msg: string): void
  logerror(plugin: unknown, msg: string): void
}

export interface ShopNoticeState {
  settings: Settings
  resolver: CachedResolver
  /** the resolver's settings, to know whether a reload needs a new one */
  resolverKey: string
}

/** Metrics, when `[metrics] enabled` at start-up (docs/metrics.md). */
export interface MetricsState {
  readonly metrics: ShopNoticeMetrics
  /** the [metrics] settings the listener was started with: a reload cannot change them */
  readonly started: string
  server?: MetricsServer
  collector?: ClusterCollector
  stopAnswering?: () => void
}

export interface ShopNoticePlugin {
  name: string
  config: HarakaConfig
  register_hook(hook: string, method: string, priority?: number): void
  loginfo(msg: string): void
  logwarn(msg: string): void
  logerror(msg: string): void
  shopNotice?: ShopNoticeState
  shopNoticeMetrics?: MetricsState
  load_shop_notice_config(fromWatcher?: boolean): void
  scan_message(next: Next, connection: Connection): void
  record_quarantine(next: Next, connection: Connection): void
}

const resolverKey = (s: Settings): string => JSON.stringify([s.dns, s.cache])

const newResolver = (s: Settings): CachedResolver =>
  new CachedResolver({
    servers: s.dns.servers,
    timeoutMs: s.dns.timeout_ms,
    cacheSize: s.cache.size,
    maxTtlMs: s.cache.max_ttl_s * 1000,
    negativeTtlMs: s.cache.negative_ttl_s * 1000,
  })

export function register(this: ShopNoticePlugin): void {
  this.load_shop_notice_config()
  this.register_hook('data_post', 'scan_message')
  this.register_hook('data_post', 'refuse_cut_headers', -100) // first of all data_post hooks: a header core cut (src/plugin-guards.ts)
  // after core queue/quarantine stored a message (and before the client hears 250): the sidecar
  this.register_hook('queue_ok', 'record_quarantine')
  const mode = this.shopNotice?.settings.actions.mode
  const plugins = this.config.get('plugins', 'list')
  if ((mode === 'quarantine' || mode === 'reject') && Array.isArray(plugins) && !plugins.includes('queue/quarantine')) {
    this.logwarn(`[actions] mode=${mode}, but queue/quarantine is not in config/plugins: spoofed notices will be delivered, not held`)
  }
  const metrics = this.shopNotice?.settings.metrics
  if (metrics?.enabled) {
    this.shopNoticeMetrics = { metrics: new ShopNoticeMetrics(() => this.shopNotice?.resolver), started: JSON.stringify(metrics) }
    // a cluster worker answers the master's requests for its figures from the moment it is loaded;
    // init_master runs in the one process, or in the cluster master, which serves them
    if (cluster.isWorker) this.shopNoticeMetrics.stopAnswering = answerMaster(this.shopNoticeMetrics.metrics)
    this.register_hook('init_master', 'serve_metrics')
  }
}

/** Starts the metrics listener: of this process alone, or (cluster master) summing every worker's figures. */
export function serve_metrics(this: ShopNoticePlugin, next: Next, server?: { cluster?: ClusterLike }): void {
  const m = this.shopNoticeMetrics
  const spec = this.shopNotice?.settings.metrics.listen ?? ''
  const listen = parseListen(spec)
  if (!m || !listen) return next()
  const clustered = !!server?.cluster
  if (clustered) m.collector = new ClusterCollector(server.cluster!)
  const collector = m.collector
  const source = collector ? () => collector.collect() : () => Promise.resolve(m.metrics.registry)
  startMetricsServer(listen.host, listen.port, source).then(
    (s) => {
      m.server = s
      this.loginfo(`metrics at ${s.url}${clustered ? ' (the sum of every worker)' : ''}`)
      next()
    },
    // mail matters more than its figures: Haraka runs on without them
    (err: Error) => {
      this.logerror(`metrics not served: cannot listen on ${spec}: ${err.message}`)
      next()
    },
  )
}

/** Haraka calls this on shutdown: the metrics listener and the IPC handlers go. */
export function shutdown(this: ShopNoticePlugin): void {
  const m = this.shopNoticeMetrics
  if (!m) return
  m.stopAnswering?.()
  m.stopAnswering = undefined
  m.collector?.close()
  void m.server?.close()
  m.server = undefined
}

/**
 * Loads shop-notice.ini and the registry, and reloads them when they change. The
 * first load throws on an invalid file (Haraka then refuses to start, saying why);
 * a reload with an invalid file is logged and the last good configuration stays.
 */
export function load_shop_notice_config(this: ShopNoticePlugin, fromWatcher = false): void {
  const first = !this.shopNotice
  try {
    const { value: settings, warnings } = loadSettings(harakaSource(this.config, () => this.load_shop_notice_config(true)))
    for (const w of warnings) this.logwarn(w)
    const prev = this.shopNotice
    const key = resolverKey(settings)
    this.shopNotice = {
      settings,
      resolver: prev && prev.resolverKey === key ? prev.resolver : newResolver(settings),
      resolverKey: key,
    }
    if (!first) {
      this.loginfo(`configuration reloaded: mode=${settings.actions.mode} brands=${settings.registry.brands.size}`)
      this.shopNoticeMetrics?.metrics.reloaded(true)
      if (this.shopNoticeMetrics && JSON.stringify(settings.metrics) !== this.shopNoticeMetrics.started) {
        this.logwarn('[metrics] changed: the metrics listener keeps its start-up settings until Haraka restarts')
      }
    }
  } catch (err) {
    if (!first) this.shopNoticeMetrics?.metrics.reloaded(false)
    // only the start-up load may throw (Haraka then refuses to start, saying why); a file
    // watcher's callback must never throw into a timer
    if (first && !fromWatcher) throw err
    this.logerror(
      first
        ? `configuration still invalid, the plugin scans nothing until it is fixed: ${(err as Error).message}`
        : `configuration not reloaded, the last good one stays in force: ${(err as Error).message}`,
    )
  }
}

function readMessage(txn: Transaction): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    txn.message_stream.once('error', onError)
    txn.message_stream.get_data((buf) => {
      txn.message_stream.removeListener('error', onError)
      resolve(buf)
    })
  })
}

/**
 * Removes the Authentication-Results (and Original-) fields written under `authservId`,
 * the others staying where they are; returns how many.
 */
function removeAuthResultsOf(txn: Transaction, authservId: string): number {
  let removed = 0
  for (const name of [AR_HEADER, `Original-${AR_HEADER}`]) {
    const ours = (v: string): boolean => isOurAuthResults(v, authservId)
    const inPlace = removeFields(txn.header, name, ours)
    if (inPlace !== undefined) {
      removed += inPlace
      continue
    }
    // a Header laid out otherwise: Haraka's API, which moves the others to the top
    const values = txn.header.get_all(name)
    const keep = values.filter((v) => !ours(v))
    if (keep.length === values.length) continue
    removed += values.length - keep.length
    txn.remove_header(name)
    for (const v of keep.reverse()) txn.add_leading_header(name, v.replace(/\r?\n$/, ''))
  }
  return removed
}

/** Removes inbound X-Shop-Notice headers and Authentication-Results that carry our authserv-id. */
export function removeForgedHeaders(txn: Transaction, authservId: string): number {
  // first the lines Haraka did not take for fields (`X-Shop-Notice : …`) but a mail client may
  const unparsed = removeUnparsedLines(txn.header, (line) => isForgedLine(line, authservId))
  const removed = txn.header.get_all(VERDICT_HEADER).length + removeAuthResultsOf(txn, authservId)
  // ... and remove_header() also tells Haraka that the header block changed
  txn.remove_header(VERDICT_HEADER)
  return unparsed + removed
}

/**
 * Takes the fragments other plugins gave core's connection.auth_results(). Haraka writes
 * them as `Authentication-Results: <me>; …` before data_post, and again after it
 * (data_post_respond), when it first removes EVERY Authentication-Results header —
 * ours included. So they are taken here and written by us: merged into our header when
 * our authserv-id is `me`, else into a header of `me`'s own, as core would have.
 */
function takeCoreFragments(connection: Connection, txn: Transaction): string[] {
  const take = (notes: Record<string, unknown>): string[] => {
    const v = notes.authentication_results
    if (!Array.isArray(v)) return []
    notes.authentication_results = []
    return v.filter((x): x is string => typeof x === 'string')
  }
  return [...take(connection.notes), ...take(txn.notes)]
}

/** The methods our own header reports: other plugins' fragments for them are not repeated. */
const OUR_METHODS = /^\s*(spf|dkim|dmarc|arc)\s*=/i

const addressOf = (a: Address | null | undefined): string => {
  const v = a?.address
  return (typeof v === 'function' ? v.call(a) : v) ?? ''
}
const envelopeSender = (txn: Transaction): string => addressOf(txn.mail_from)

const skipReason = (connection: Connection, settings: Settings): 'relaying' | 'private_ip' | undefined => {
  if (settings.skip.relaying && connection.relaying) return 'relaying'
  if (settings.skip.private_ip && connection.remote.is_private) return 'private_ip'
  return undefined
}

/** The quarantine folder core queue/quarantine writes (its quarantine.ini; relative to Haraka's folder). */
const quarantineDir = (plugin: ShopNoticePlugin): string => quarantineDirOf(plugin.config.get('quarantine.ini'), process.cwd())

export function scan_message(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  if (!txn || !this.shopNotice) return next()
  const released = txn.header.get_all(RELEASE_HEADER)
  if (!released.length) return scanTransaction.call(this, next, connection, txn)
  // a copy an admin released from the quarantine (`shop-notice quarantine release`) carries the
  // one-time token of its release claim: it passes as it was held. Any other such header is forged.
  const value = released.length === 1 ? (released[0] ?? '') : ''
  new QuarantineStore(quarantineDir(this))
    .useToken(value)
    .catch(() => undefined)
    .then((release) => {
      if (connection.transaction !== txn) return next()
      if (release) {
        txn.results.add(this, { skip: 'released', emit: true })
        connection.loginfo(this, `released from quarantine id=${release.id} by=${release.by}: passed as held, not scanned again`)
        return next()
      }
      txn.remove_header(RELEASE_HEADER)
      connection.logwarn(this, `removed ${released.length} ${RELEASE_HEADER} header(s) without a valid release token`)
      scanTransaction.call(this, next, connection, txn)
    })
    .catch((err: unknown) => {
      connection.logerror(this, `internal error, message passed unscanned: ${(err as Error)?.stack ?? String(err)}`)
      next()
    })
}

function scanTransaction(this: ShopNoticePlugin, next: Next, connection: Connection, txn: Transaction): void {
  const state = this.shopNotice
  if (!state) return next()
  const { settings } = state
  const authservId = settings.main.authserv_id || connection.local.host || 'localhost'

  const skip = skipReason(connection, settings)
  if (skip) {
    // a relaying client's message is not scanned, but it still cannot carry a verdict of ours
    removeForgedHeaders(txn, authservId)
    txn.results.add(this, { skip })
    this.shopNoticeMetrics?.metrics.skipped(skip)
    return next()
  }

  const started = performance.now()
  readMessage(txn)
    .then((raw) =>
      scan(
        raw,
        { ip: connection.remote.ip ?? undefined, helo: connection.hello.host ?? undefined, sender: envelopeSender(txn) },
        { settings, authservId, resolve: state.resolver.forMessage(settings.dns.message_timeout_ms) },
      ),
    )
    .catch((err: unknown) => errorResult(err))
    .then((result) => {
      if (connection.transaction !== txn) return next() // the client went away meanwhile
      const action = apply.call(this, connection, txn, result, settings, authservId)
      const elapsed = performance.now() - started
      this.shopNoticeMetrics?.metrics.scanned(result, action, elapsed / 1000)
      const ms = Math.round(elapsed)
      const log = `verdict=${result.verdict} brand=${result.brand ?? '-'} kind=${result.kind ?? '-'} score=${result.score} signals=${result.hits.map((h) => h.symbol).join(',') || '-'} action=${action} ms=${ms}`
      if (result.verdict === 'error') connection.logerror(this, `${log} error=${JSON.stringify(result.error)}`)
      else connection.loginfo(this, log)
      if (action === 'reject') return next(constants.DENY, DSN.sec_unauthorized(settings.actions.reject_message, 550))
      if (action === 'defer') {
        return next(constants.DENYSOFT, DSN.temp_resolver_failed('Temporary DNS failure while authenticating the sender, try again later', 451))
      }
      next()
    })
    .catch((err: unknown) => {
      // a bug in the code above: never hold or lose the message for it
      connection.logerror(this, `internal error, message passed unscanned: ${(err as Error)?.stack ?? String(err)}`)
      next()
    })
}

/** Writes the headers, results and notes, and arranges the action. Returns the action taken. */
function apply(
  this: ShopNoticePlugin,
  connection: Connection,
  txn: Transaction,
  result: ScanResult,
  settings: Settings,
  authservId: string,
): Action {
  removeForgedHeaders(txn, authservId)

  const action = actionFor(result, settings.actions, settings.thresholds)
  const core = takeCoreFragments(connection, txn)
  const me = connection.local.host || authservId
  const merged = me.toLowerCase() === authservId.toLowerCase()
  if (!merged && core.length) {
    removeAuthResultsOf(txn, me) // core's own copy from before data_post, rewritten whole here
    txn.add_leading_header(AR_HEADER, formatAuthResults(me, core))
  }
  txn.add_leading_header(AR_HEADER, formatAuthResults(authservId, [...(merged ? core.filter((f) => !OUR_METHODS.test(f)) : []), ...result.auth.fragments]))
  txn.add_leading_header(VERDICT_HEADER, formatVerdict(result))

  const prefix = settings.actions.subject_prefix
  if (action === 'tag' && prefix && !(txn.header.get_all('Subject')[0] ?? '').startsWith(prefix)) {
    // the sender's Subject field, in its place and as written, with the prefix put before its text
    if (!rewriteFirstField(txn.header, 'Subject', (v) => prefixSubject(prefix, v))) {
      // no Subject (or a Header laid out otherwise): one on top
      const subject = (txn.header.get_all('Subject')[0] ?? '').replace(/\r?\n$/, '').trim()
      txn.remove_header('Subject')
      txn.add_leading_header('Subject', subject ? `${prefix} ${subject}` : prefix)
    }
  }
  if (action === 'quarantine') {
    // core queue/quarantine stores the message whole, then answers with quarantine_action: OK keeps
    // it from being delivered too. Core reads the action even when it could not store the file
    // (a failed link): then the sender is asked to try again, so that the message is never lost.
    txn.notes.quarantine = true
    Object.defineProperty(txn.notes, 'quarantine_action', {
      configurable: true,
      enumerable: true,
      get: () =>
        typeof txn.notes.quarantined === 'string'
          ? [constants.OK, 'Message accepted']
          : [constants.DENYSOFT, 'Message could not be stored, try again later'],
      // another plugin may still set its own action: it then stands as given
      set: (value: unknown) => {
        Object.defineProperty(txn.notes, 'quarantine_action', { value, writable: true, configurable: true, enumerable: true })
      },
    })
  }

  const reason = `${result.verdict}(${result.brand ?? '-'})`
  const summary = {
    verdict: result.verdict,
    brand: result.brand ?? null,
    kind: result.kind ?? null,
    score: result.score,
    signals: result.hits.map((h) => ({ symbol: h.symbol, options: [...h.options] })),
    action,
    auth: { spf: result.auth.spf.result, dkim: result.auth.dkim.map((d) => `${d.result}:${d.domain}`), dmarc: result.auth.dmarc.result, arc: result.auth.arc.result },
  }
  txn.notes.shop_notice = summary
  const outcome =
    result.verdict === 'error'
      ? { err: result.error ?? 'scan failed' }
      : result.verdict === 'spoofed' || result.verdict === 'suspicious'
        ? { fail: reason }
        : { pass: reason }
  txn.results.add(this, { ...outcome, verdict: result.verdict, score: result.score, action, emit: true })
  return action
}

/**
 * queue_ok: when core queue/quarantine has stored the message (txn.notes.quarantined is
 * its file), writes the sidecar next to it (atomically), so that `shop-notice quarantine
 * list` needs no rescan. Runs before the client hears 250. A failure is logged: the
 * message itself is held either way, and `list` then reads its headers instead.
 */
export function record_quarantine(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  const stored = txn?.notes.quarantined
  if (!txn || typeof stored !== 'string') return next()
  const settings = this.shopNotice?.settings
  const file = path.resolve(stored)
  const authservId = settings?.main.authserv_id || connection.local.host || 'localhost'
  const header = (name: string): string | undefined => txn.header.get_all(name)[0]?.replace(/\r?\n$/, '')
  fs.promises
    .stat(file)
    .then((st) =>
      writeSidecar(
        file,
        buildSidecar({
          id: txn.uuid,
          received: new Date(),
          remote: { ip: connection.remote.ip, host: connection.remote.host ?? null, helo: connection.hello.host },
          envelope: { from: envelopeSender(txn), to: (txn.rcpt_to ?? []).map(addressOf) },
          headers: { from: header('From'), subject: header('Subject'), messageId: header('Message-ID') },
          size: st.size,
          summary: txn.notes.shop_notice,
          scores: settings?.scores ?? {},
          authenticationResults: txn.header
            .get_all(AR_HEADER)
            .filter((v) => isOurAuthResults(v, authservId))
            .map((v) => v.replace(/\r?\n$/, '')),
        }),
      ),
    )
    .then(
      (sidecar) => connection.loginfo(this, `quarantined id=${txn.uuid} file=${file} sidecar=${sidecar}`),
      (err: unknown) => connection.logerror(this, `quarantined id=${txn.uuid} file=${file}, but its sidecar could not be written: ${(err as Error).message}`),
    )
    .finally(() => next())
}
