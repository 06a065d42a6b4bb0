/**
 * Haraka out: what a scan decided, written into the transaction: our headers, the
 * subject tag, the note that holds a message, txn.notes.shop_notice and txn.results.
 */
import type { Settings } from '../config/settings.js'
import { AR_HEADER, formatAuthResults } from '../auth/results.js'
import type { ScanResult } from '../scan.js'
import { VERDICT_HEADER, formatVerdict, prefixSubject } from '../verdict/headers.js'
import { type Action, actionFor, dmarcAction } from '../verdict/score.js'
import type { Connection, ShopNoticePlugin, Transaction } from './haraka.js'
import { removeAuthResultsOf, removeForgedHeaders, rewriteFirstField, takeCoreFragments } from './transaction.js'

/** The methods our own header reports: other plugins' fragments for them are not repeated. */
const OUR_METHODS = /^\s*(spf|dkim|dmarc|arc)\s*=/i

/** Writes the headers, results and notes, and arranges the action. Returns the action taken. */
export function apply(
  this: ShopNoticePlugin,
  connection: Connection,
  txn: Transaction,
  result: ScanResult,
  settings: Settings,
  authservId: string,
): Action {
  removeForgedHeaders(txn, authservId)

  // [dmarc] enforce: the From domain's own policy, for every message (score.ts dmarcAction)
  const action = actionFor({ ...result, dmarc: result.auth.dmarc }, settings.actions, settings.thresholds, settings.dmarc)
  const byDmarc = action !== 'accept' && dmarcAction(result.auth.dmarc, settings.dmarc, settings.actions.mode) === action
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
    // held by the plugin's own writer (quarantine-hooks.ts hold_message): stored whole after every
    // other data_post hook, or the message is deferred (451); then accepted, never delivered
    txn.notes.shop_notice_hold = true
  }

  const reason = `${result.verdict}(${result.brand ?? '-'})`
  const summary = {
    verdict: result.verdict,
    brand: result.brand ?? null,
    kind: result.kind ?? null,
    score: result.score,
    signals: result.hits.map((h) => ({ symbol: h.symbol, options: [...h.options] })),
    action,
    ...(byDmarc ? { action_by: `dmarc(p=${result.auth.dmarc.policy ?? '-'})` } : {}),
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

