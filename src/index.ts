/**
 * The Haraka boundary: the only file that knows Haraka. Everything it decides
 * comes from scan() and actionFor(); here it is read from and written to the
 * transaction. No hook ever throws into Haraka: an internal error lets the
 * message through with the verdict `error`, and is logged.
 *
 * Haraka copies these exports onto its plugin object, so `this` is the plugin.
 */
import constants from 'haraka-constants'
import DSN from 'haraka-dsn'

import { type HarakaConfig, type Settings, harakaSource, loadSettings } from './config.js'
import { type HarakaHeader, removeFields, removeUnparsedLines, rewriteFirstField } from './haraka-header.js'
import { AR_HEADER, VERDICT_HEADER, formatAuthResults, formatVerdict, isForgedLine, isOurAuthResults, prefixSubject } from './headers.js'
import { CachedResolver } from './resolver.js'
import { type ScanResult, errorResult, scan } from './scan.js'
import { type Action, actionFor } from './verdict.js'

/** Haraka's hook callback; a DSN object as msg brings its own reply code and enhanced status */
type Next = (code?: number, msg?: string | object) => void

interface Header extends HarakaHeader {
  get_all(name: string): string[]
  remove(name: string): void
}

interface Transaction {
  uuid: string
  header: Header
  /** @haraka/email-address: `address` is a string in Haraka 3.3, a method in older releases */
  mail_from?: { address: string | (() => string) } | null
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
  remote: { ip: string | null; is_private?: boolean }
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

export interface ShopNoticePlugin {
  name: string
  config: HarakaConfig
  register_hook(hook: string, method: string, priority?: number): void
  loginfo(msg: string): void
  logwarn(msg: string): void
  logerror(msg: string): void
  shopNotice?: ShopNoticeState
  load_shop_notice_config(fromWatcher?: boolean): void
  scan_message(next: Next, connection: Connection): void
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
  const mode = this.shopNotice?.settings.actions.mode
  const plugins = this.config.get('plugins', 'list')
  if ((mode === 'quarantine' || mode === 'reject') && Array.isArray(plugins) && !plugins.includes('queue/quarantine')) {
    this.logwarn(`[actions] mode=${mode}, but queue/quarantine is not in config/plugins: spoofed notices will be delivered, not held`)
  }
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
    if (!first) this.loginfo(`configuration reloaded: mode=${settings.actions.mode} brands=${settings.registry.brands.size}`)
  } catch (err) {
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

const envelopeSender = (txn: Transaction): string => {
  const a = txn.mail_from?.address
  return (typeof a === 'function' ? a.call(txn.mail_from) : a) ?? ''
}

const skipReason = (connection: Connection, settings: Settings): string | undefined => {
  if (settings.skip.relaying && connection.relaying) return 'relaying'
  if (settings.skip.private_ip && connection.remote.is_private) return 'private_ip'
  return undefined
}

export function scan_message(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  const state = this.shopNotice
  if (!txn || !state) return next()
  const { settings } = state
  const authservId = settings.main.authserv_id || connection.local.host || 'localhost'

  const skip = skipReason(connection, settings)
  if (skip) {
    // a relaying client's message is not scanned, but it still cannot carry a verdict of ours
    removeForgedHeaders(txn, authservId)
    txn.results.add(this, { skip })
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
      const ms = Math.round(performance.now() - started)
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
    // core queue/quarantine stores the message whole and answers 250; OK keeps it from being delivered too
    txn.notes.quarantine = true
    txn.notes.quarantine_action = [constants.OK, 'Message accepted']
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
