/**
 * From hits to a verdict, and from a verdict to an action. Pure.
 */
import type { Hit, SymbolName } from './symbols.js'

export const VERDICTS = ['none', 'notice', 'verified', 'suspicious', 'spoofed', 'error'] as const
export type Verdict = (typeof VERDICTS)[number]

/** `[actions] mode`: the strongest action allowed */
export const MODES = ['monitor', 'tag', 'quarantine', 'reject'] as const
export type Mode = (typeof MODES)[number]

/** `[thresholds]` of shop-notice.ini */
export interface Thresholds {
  readonly suspicious: number
  readonly spoofed: number
  readonly reject: number
}

/** The part of `[actions]` that chooses an action */
export interface ActionSettings {
  readonly mode: Mode
  readonly defer_on_dns_error: boolean
}

/** Sum of the configured scores of the hits, rounded to two decimals. */
export function scoreHits(hits: readonly Hit[], scores: Readonly<Record<SymbolName, number>>): number {
  return roundScore(hits.reduce((acc, h) => acc + scores[h.symbol], 0))
}

/** A score as we show and compare it: two decimals. */
const roundScore = (n: number): number => Math.round(n * 100) / 100

/** A score as written in headers and listings. */
export const formatScore = (n: number): string => String(roundScore(n))

/**
 * A composite, declared in shop-notice.scores.yaml: when `when` fired, the weight of
 * `removes` is taken off (rspamd's `policy = remove_weight`).
 */
export interface Composite {
  readonly name: string
  readonly when: SymbolName
  readonly removes: readonly SymbolName[]
  readonly why: string
}

/**
 * The declared composites, in order: when a composite's symbol fired, the symbols it
 * removes are taken out and named in its options (`removed=…`).
 */
export function applyComposites(hits: readonly Hit[], composites: readonly Composite[]): Hit[] {
  let out = [...hits]
  for (const c of composites) {
    const at = out.findIndex((h) => h.symbol === c.when)
    if (at < 0) continue
    const removed = out.filter((h) => c.removes.includes(h.symbol))
    if (!removed.length) continue
    const owner = out[at]!
    out = out
      .filter((h) => !c.removes.includes(h.symbol))
      .map((h) => (h === owner ? { ...h, options: [...h.options, `removed=${removed.map((r) => r.symbol).join('+')}`] } : h))
  }
  return out
}

/**
 * `none` unless the message claims to be a notice; then by thresholds; below them,
 * `verified` only when the claimed brand authenticated.
 */
export function verdictOf(
  isNotice: boolean,
  score: number,
  hits: readonly Hit[],
  thresholds: Thresholds,
): Exclude<Verdict, 'error'> {
  if (!isNotice) return 'none'
  if (score >= thresholds.spoofed) return 'spoofed'
  if (score >= thresholds.suspicious) return 'suspicious'
  if (hits.some((h) => h.symbol === 'BRAND_AUTHENTICATED')) return 'verified'
  return 'notice'
}

export type Action = 'accept' | 'tag' | 'quarantine' | 'reject' | 'defer'

/** `[dmarc]` of shop-notice.ini */
export interface DmarcSettings {
  /** honour the From domain's published policy (p=reject, p=quarantine) for every message that fails DMARC */
  readonly enforce: boolean
}

/** The DMARC result an action may honour: its result and the policy the domain published. */
export interface DmarcOutcome {
  readonly result: string
  /** effective policy: none, quarantine or reject */
  readonly policy?: string
}

const STRENGTH: Readonly<Record<Mode, number>> = { monitor: 0, tag: 1, quarantine: 2, reject: 3 }

export interface ActionInput {
  readonly verdict: Verdict
  readonly score: number
  /** the claim could not be checked because DNS failed for now */
  readonly dnsTempfail: boolean
  /** the DMARC result, for `[dmarc] enforce` */
  readonly dmarc?: DmarcOutcome
}

/** How strong an action is, for taking the stronger of two. */
const ACTION_RANK: Readonly<Record<Action, number>> = { accept: 0, tag: 1, defer: 2, quarantine: 3, reject: 4 }

/**
 * The action the From domain's DMARC policy asks for, with `[dmarc] enforce` on: for
 * `p=reject` a 550 in mode=reject (quarantine or tag in the weaker modes), for
 * `p=quarantine` a quarantine (tag in mode=tag). Only a DMARC `fail`: never a temperror
 * (RFC 7489 6.6.2), never `p=none`. It applies to every message, personal mail forged
 * from such a domain too; the `[actions] mode` stays the strongest action.
 */
export function dmarcAction(dmarc: DmarcOutcome | undefined, settings: DmarcSettings | undefined, mode: Mode): Action | undefined {
  if (!settings?.enforce || dmarc?.result !== 'fail') return undefined
  const asked = dmarc.policy === 'reject' ? STRENGTH.reject : dmarc.policy === 'quarantine' ? STRENGTH.quarantine : 0
  const strength = Math.min(asked, STRENGTH[mode])
  return strength >= STRENGTH.reject ? 'reject' : strength >= STRENGTH.quarantine ? 'quarantine' : strength >= STRENGTH.tag ? 'tag' : undefined
}

/**
 * The strongest action the mode allows for this verdict, or the one the From domain's
 * DMARC policy asks for (`[dmarc] enforce`, dmarcAction), whichever is stronger. `reject`
 * needs the reject threshold; `defer` (4xx) is for a brand notice whose authentication
 * hit a DNS failure, when the mode could otherwise hold or refuse it and the admin wants that.
 */
export function actionFor(input: ActionInput, actions: ActionSettings, thresholds: Thresholds, dmarc?: DmarcSettings): Action {
  const byVerdict = verdictAction(input, actions, thresholds)
  const byPolicy = dmarcAction(input.dmarc, dmarc, actions.mode)
  return byPolicy && ACTION_RANK[byPolicy] > ACTION_RANK[byVerdict] ? byPolicy : byVerdict
}

function verdictAction(input: ActionInput, actions: ActionSettings, thresholds: Thresholds): Action {
  const allowed = STRENGTH[actions.mode]
  if (input.verdict === 'error' || input.verdict === 'none' || allowed === 0) return 'accept'
  if (input.verdict === 'spoofed') {
    if (allowed >= STRENGTH.reject && input.score >= thresholds.reject) return 'reject'
    return allowed >= STRENGTH.quarantine ? 'quarantine' : 'tag'
  }
  if (input.dnsTempfail && actions.defer_on_dns_error && allowed >= STRENGTH.quarantine) return 'defer'
  if (input.verdict === 'suspicious') return 'tag'
  return 'accept'
}
