/**
 * The Haraka boundary: the plugin's hooks. Haraka in (the transaction read, the
 * configuration loaded and reloaded), Haraka out (apply.ts writes what scan() decided).
 * The hooks of the quarantine and the metrics are in their own files. No hook ever
 * throws into Haraka: an internal error lets the message through with the verdict
 * `error`, and is logged.
 *
 * Haraka copies these exports onto its plugin object, so `this` is the plugin.
 */
import constants from 'haraka-constants'
import DSN from 'haraka-dsn'

import { type Settings, emptiedIniWarnings, harakaSource, loadSettings } from '../config/settings.js'
import { authservIdFor, resolverFor } from '../config/sources.js'
import { errorResult, scan } from '../scan.js'
import { apply } from './apply.js'
import { type Connection, type Next, type ShopNoticePlugin, type Transaction, envelopeRecipients, envelopeSender, harakaMeOf, recipientDomains } from './haraka.js'
import { policyForRecipients } from '../config/policy.js'
import { registerMetrics, shutdown as shutdownMetrics } from './metrics-hooks.js'
import { passReleased } from './quarantine-hooks.js'
import { closeStore, learnFrom, memoryFor, syncStore } from './store-hooks.js'
import { receivedAuthResults, removeForgedHeaders, transactionBytes } from './transaction.js'
import { relayTrusted } from '../auth/trust.js'

export { serve_metrics } from './metrics-hooks.js'
export { hold_message, queue_held, record_quarantine } from './quarantine-hooks.js'
export { refuse_cut_headers } from './guards.js'

const resolverKey = (s: Settings): string => JSON.stringify([s.dns, s.cache])

export function register(this: ShopNoticePlugin): void {
  this.load_shop_notice_config()
  this.register_hook('data_post', 'scan_message')
  this.register_hook('data_post', 'refuse_cut_headers', -100) // first of all data_post hooks: a header core cut (guards.ts)
  // a message to hold: stored after every other data_post hook (451 when it cannot be), then
  // accepted before any queue plugin could deliver it, then its sidecar (quarantine-hooks.ts)
  this.register_hook('data_post', 'hold_message', 100)
  this.register_hook('queue', 'queue_held', -100)
  this.register_hook('queue_outbound', 'queue_held', -100)
  this.register_hook('queue_ok', 'record_quarantine')
  registerMetrics.call(this)
  // after the metrics, so that a failure to open is counted too
  syncStore.call(this)
}

/** Haraka calls this on shutdown: the metrics listener and the store's handle go. */
export function shutdown(this: ShopNoticePlugin): void {
  shutdownMetrics.call(this)
  void closeStore.call(this)
}

/**
 * Loads shop-notice.ini, the scores, the registry and the phrase book, and reloads them
 * when they change. The first load throws on an invalid file or ini line (Haraka then
 * refuses to start, saying why); a reload with one is logged as an error and the last good
 * configuration stays. A reload where an ini file lost all its settings (emptied) applies
 * the defaults, with a warning.
 */
export function load_shop_notice_config(this: ShopNoticePlugin, fromWatcher = false): void {
  const starting = !this.shopNotice
  try {
    const { value: settings, warnings, iniLines } = loadSettings(harakaSource(this.config, () => this.load_shop_notice_config(true)))
    const prev = this.shopNotice
    for (const w of [...warnings, ...emptiedIniWarnings(prev?.iniLines ?? {}, iniLines)]) this.logwarn(w)
    const key = resolverKey(settings)
    this.shopNotice = {
      settings,
      resolver: prev && prev.resolverKey === key ? prev.resolver : resolverFor(settings),
      resolverKey: key,
      iniLines,
    }
    if (!starting) {
      this.loginfo(`configuration reloaded: mode=${settings.actions.mode} brands=${settings.registry.brands.size}`)
      this.shopNoticeMetrics?.metrics.reloaded(true)
      if (this.shopNoticeMetrics && JSON.stringify(settings.metrics) !== this.shopNoticeMetrics.started) {
        this.logwarn('[metrics] changed: the metrics listener keeps its start-up settings until Haraka restarts')
      }
      // [store] or [redis] changed: a new handle (the old one is closed)
      syncStore.call(this)
    }
  } catch (err) {
    if (!starting) this.shopNoticeMetrics?.metrics.reloaded(false)
    // only the start-up load may throw (Haraka then refuses to start, saying why); a file
    // watcher's callback must never throw into a timer
    if (starting && !fromWatcher) throw err
    this.logerror(
      starting
        ? `configuration still invalid, the plugin scans nothing until it is fixed: ${(err as Error).message}`
        : `configuration not reloaded, the last good one stays in force: ${(err as Error).message}`,
    )
  }
}

const skipReason = (connection: Connection, settings: Settings): 'relaying' | 'private_ip' | undefined => {
  if (settings.skip.relaying && connection.relaying) return 'relaying'
  if (settings.skip.private_ip && connection.remote.is_private) return 'private_ip'
  return undefined
}

/**
 * The settings for this transaction's recipients: `[policy.<domain>]` overrides the mode
 * and thresholds; recipients in domains of different policies get the weakest (config/policy.ts).
 */
function settingsForRecipients(settings: Settings, txn: Transaction): Settings {
  if (!settings.policies.size) return settings
  const global = { mode: settings.actions.mode, thresholds: settings.thresholds }
  const p = policyForRecipients(settings.policies, recipientDomains(txn), global)
  return p === global ? settings : { ...settings, actions: { ...settings.actions, mode: p.mode }, thresholds: p.thresholds }
}

export function scan_message(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  if (!txn || !this.shopNotice) return next()
  if (!passReleased.call(this, next, connection, txn, () => scanTransaction.call(this, next, connection, txn))) {
    scanTransaction.call(this, next, connection, txn)
  }
}

function scanTransaction(this: ShopNoticePlugin, next: Next, connection: Connection, txn: Transaction): void {
  const state = this.shopNotice
  if (!state) return next()
  const settings = settingsForRecipients(state.settings, txn)
  const authservId = authservIdFor(settings, harakaMeOf(connection))

  const skip = skipReason(connection, settings)
  if (skip) {
    // a relaying client's message is not scanned, but it still cannot carry a verdict of ours
    removeForgedHeaders(txn, authservId)
    txn.results.add(this, { skip })
    this.shopNoticeMetrics?.metrics.skipped(skip)
    return next()
  }

  const started = performance.now()
  const ip = connection.remote.ip ?? undefined
  // from a trusted gateway, its Authentication-Results as received (core renamed them)
  const relayed = relayTrusted(ip, settings.auth.trusted_relays) && settings.auth.trusted_authserv_ids.length > 0
  transactionBytes(txn)
    .then(async (raw) => {
      // a failure to read them leaves no gateway results (checked as any other client), never an error
      const received = relayed ? await receivedAuthResults(txn).catch(() => undefined) : undefined
      return scan(
        raw,
        // the recipients are the envelope's: the detectors compare the sender's display name with their domains
        { ip, helo: connection.hello.host ?? undefined, sender: envelopeSender(txn), recipients: envelopeRecipients(txn) },
        {
          settings,
          authservId,
          resolve: state.resolver.forMessage(settings.dns.message_timeout_ms),
          now: new Date(),
          // a stream laid out otherwise: no gateway results at all, rather than ones a sender could write
          receivedAuthResults: relayed ? (received ?? []) : undefined,
          memory: memoryFor.call(this, txn),
        },
      )
    })
    .catch((err: unknown) => errorResult(err))
    // an authenticated notice teaches the store before the client hears the answer (bounded by [store] timeout_ms)
    .then(async (result) => {
      await learnFrom.call(this, txn, result)
      return result
    })
    .then((result) => {
      if (connection.transaction !== txn) return next() // the client went away meanwhile
      const action = apply.call(this, connection, txn, result, settings, authservId)
      const elapsed = performance.now() - started
      this.shopNoticeMetrics?.metrics.scanned(result, action, elapsed / 1000)
      const ms = Math.round(elapsed)
      const log = `${settings.policies.size ? `mode=${settings.actions.mode} ` : ''}verdict=${result.verdict} brand=${result.brand ?? '-'} kind=${result.kind ?? '-'} score=${result.score} signals=${result.hits.map((h) => h.symbol).join(',') || '-'} action=${action} ms=${ms}`
      if (result.verdict === 'error') connection.logerror(this, `${log} error=${JSON.stringify(result.error)}`)
      else connection.loginfo(this, log)
      if (action === 'reject') {
        // [dmarc] enforce refuses what the From domain's own p=reject asks to refuse, whatever the verdict
        const byDmarc = (txn.notes.shop_notice as { action_by?: string } | undefined)?.action_by
        const message = byDmarc ? `Rejected by the DMARC policy of ${result.auth.dmarc.fromDomain ?? 'the From domain'}` : settings.actions.reject_message
        return next(constants.DENY, DSN.sec_unauthorized(message, 550))
      }
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

