/**
 * One scan: the same code path for the Haraka plugin and `shop-notice scan`.
 * parse ∥ authenticate → detect → verdict: parsing and authentication run side by
 * side; the detectors then see both, and the verdict stage scores their hits.
 * scan() never throws: an internal failure is the verdict `error`.
 */
import { type AuthFacts, type SmtpContext, UNAVAILABLE, authenticateMessage } from './auth/authenticate.js'
import { trustedAuthResults } from './auth/results.js'
import { relayTrusted } from './auth/trust.js'
import type { Settings } from './config/settings.js'
import { type MemorySubject, type RecipientMemory, claimAwaitsDns, detect, memoryHits, memorySubject } from './detect/index.js'
import { type MessageFacts, readMessage } from './message/parse.js'
import type { ResolveFn } from './auth/resolver.js'
import type { Hit } from './verdict/symbols.js'
import { type Verdict, applyComposites, scoreHits, verdictOf } from './verdict/score.js'

export interface ScanOptions {
  readonly settings: Settings
  /** our authserv-id, written into Authentication-Results */
  readonly authservId: string
  /** DNS for mailauth; absent means offline: no query at all */
  readonly resolve?: ResolveFn
  /** the scan time, for the registry's incidents in force (default: now) */
  readonly now?: Date
  /**
   * The Authentication-Results values as the message was received, topmost first (the plugin:
   * Haraka renames them before plugins run). Read only when the client is one of `[auth]
   * trusted_relays`; absent, those of the message's own header are read.
   */
  readonly receivedAuthResults?: readonly string[]
  /**
   * What the relay remembers (the plugin's state store, docs/store.md): asked once for an
   * authenticated notice, answering per recipient. It must never reject and must answer
   * within its own timeout. Absent (`shop-notice scan`): nothing remembered, no memory signal.
   */
  readonly memory?: (subject: MemorySubject) => Promise<readonly RecipientMemory[]>
}

export interface ScanResult {
  readonly verdict: Verdict
  readonly brand?: string
  readonly kind?: string
  readonly score: number
  readonly hits: readonly Hit[]
  readonly auth: AuthFacts
  /** a registered brand's claim could not be checked because DNS failed for now */
  readonly dnsTempfail: boolean
  readonly error?: string
  /**
   * An authenticated notice, as the store knows it: the plugin teaches the store this after
   * the verdict, when the verdict is `verified` or `notice` (never a flagged one).
   */
  readonly memory?: MemorySubject
  /** wall-clock milliseconds spent in each step; `store`: waiting for the memory, when it was asked */
  readonly timings: { readonly auth: number; readonly parse: number; readonly detect: number; readonly store?: number }
}

const since = (t0: number): number => Math.round((performance.now() - t0) * 1000) / 1000

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const value = await f()
  return [value, since(t0)]
}

export async function scan(raw: Buffer, ctx: SmtpContext, opts: ScanOptions): Promise<ScanResult> {
  const { settings } = opts
  let auth: AuthFacts = UNAVAILABLE
  const timings: { auth: number; parse: number; detect: number; store?: number } = { auth: 0, parse: 0, detect: 0 }
  try {
    const dkimLimits = { maxSignatures: settings.limits.max_dkim_signatures, maxAuthBytes: settings.limits.max_auth_bytes }
    const parsing = timed(() => readMessage(raw, settings.limits.max_scan_bytes, { maxLinks: settings.limits.max_links, maxParts: settings.limits.max_mime_parts }))
    const { trusted_authserv_ids: trustedIds, trusted_arc_sealers: sealers } = settings.auth
    const checking = (): Promise<readonly [AuthFacts, number]> => timed(() => authenticateMessage(raw, ctx, opts.resolve!, opts.authservId, dkimLimits, sealers))
    // a trusted gateway's own results stand for ours: it saw the sender, we see only the gateway
    const relayed = relayTrusted(ctx.ip, settings.auth.trusted_relays) && trustedIds.length > 0
    const authenticating: Promise<readonly [AuthFacts, number]> = relayed
      ? (opts.receivedAuthResults ? Promise.resolve(opts.receivedAuthResults) : parsing.then(([facts]) => facts.authResults)).then((values): Promise<readonly [AuthFacts, number]> | readonly [AuthFacts, number] => {
          const upstream = trustedAuthResults(values, trustedIds, 'relay')
          if (upstream) return [upstream, 0] as const
          return opts.resolve ? checking() : ([UNAVAILABLE, 0] as const)
        })
      : opts.resolve
        ? checking()
        : parsing.then(([facts]) => [trustedAuthResults(facts.authResults, trustedIds) ?? UNAVAILABLE, 0] as const)
    const [[facts, parseMs], [authFacts, authMs]] = await Promise.all([parsing, authenticating])
    auth = authFacts
    timings.parse = parseMs
    timings.auth = authMs

    const t0 = performance.now()
    const found = detect(facts, auth, settings, ctx.sender, opts.now ?? new Date(), ctx.recipients)
    const subject = memorySubject(found.context, found.hits)
    timings.detect = since(t0)
    let remembered: readonly RecipientMemory[] = []
    if (subject && opts.memory) {
      const t1 = performance.now()
      remembered = await opts.memory(subject).catch(() => [])
      timings.store = since(t1)
    }
    const t2 = performance.now()
    const result = conclude(facts, settings, found, subject, remembered)
    timings.detect += since(t2)
    return { ...result, auth, timings }
  } catch (err) {
    return { ...errorResult(err, auth), timings }
  }
}

/** The result of a scan that failed: verdict `error`, nothing held against the message. */
export function errorResult(err: unknown, auth: AuthFacts = UNAVAILABLE): ScanResult {
  return {
    verdict: 'error',
    score: 0,
    hits: [],
    auth,
    dnsTempfail: false,
    error: err instanceof Error ? err.message : String(err),
    timings: { auth: 0, parse: 0, detect: 0 },
  }
}

/**
 * Detect, then verdict: the detectors and the scorer over parsed facts. Pure. `memory`: what
 * the store answered per recipient, when the caller asked it already (scan() asks between
 * the two steps).
 */
export function decide(
  facts: MessageFacts,
  auth: AuthFacts,
  settings: Settings,
  envelopeFrom?: string,
  now?: Date,
  memory: readonly RecipientMemory[] = [],
): Omit<ScanResult, 'auth' | 'timings' | 'error'> {
  const found = detect(facts, auth, settings, envelopeFrom, now)
  return conclude(facts, settings, found, memorySubject(found.context, found.hits), memory)
}

/** The memory's hits, composites, score and verdict over what the detectors found. */
function conclude(
  facts: MessageFacts,
  settings: Settings,
  { context, hits: found }: ReturnType<typeof detect>,
  subject: MemorySubject | undefined,
  memory: readonly RecipientMemory[],
): Omit<ScanResult, 'auth' | 'timings' | 'error'> {
  const { kind, claim, fromDomain, fromAuth, isNotice } = context
  if (subject) found.push(...memoryHits(subject, memory))
  if (facts.truncated) {
    found.push({ symbol: 'SCAN_TRUNCATED', options: [facts.tooManyParts ? `mime_parts>${settings.limits.max_mime_parts}` : String(settings.limits.max_scan_bytes)] })
  }
  const hits = applyComposites(found, settings.composites)
  const score = scoreHits(hits, settings.scores)
  return {
    // mail in the name of a brand with an incident in force is judged whatever its wording
    verdict: verdictOf(isNotice || hits.some((h) => h.symbol === 'BRAND_INCIDENT'), score, hits, settings.thresholds),
    brand: claim?.brand.id,
    kind: kind?.kind,
    score,
    hits,
    dnsTempfail: isNotice && claimAwaitsDns(claim, fromDomain, fromAuth, settings.domains),
    ...(subject ? { memory: subject } : {}),
  }
}
