/**
 * One scan: the same code path for the Haraka plugin and `shop-notice scan`.
 * parse ∥ authenticate → detect → verdict: parsing and authentication run side by
 * side; the detectors then see both, and the verdict stage scores their hits.
 * scan() never throws: an internal failure is the verdict `error`.
 */
import { type AuthFacts, type SmtpContext, UNAVAILABLE, authenticateMessage } from './auth/authenticate.js'
import { trustedAuthResults } from './auth/results.js'
import type { Settings } from './config/settings.js'
import { claimAwaitsDns, detect } from './detect/index.js'
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
  /** wall-clock milliseconds spent in each step */
  readonly timings: { readonly auth: number; readonly parse: number; readonly detect: number }
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
  const timings = { auth: 0, parse: 0, detect: 0 }
  try {
    const dkimLimits = { maxSignatures: settings.limits.max_dkim_signatures, maxAuthBytes: settings.limits.max_auth_bytes }
    const parsing = timed(() => readMessage(raw, settings.limits.max_scan_bytes, { maxLinks: settings.limits.max_links, maxParts: settings.limits.max_mime_parts }))
    const authenticating = opts.resolve
      ? timed(() => authenticateMessage(raw, ctx, opts.resolve!, opts.authservId, dkimLimits))
      : parsing.then(([facts]) => [trustedAuthResults(facts.authResults, settings.auth.trusted_authserv_ids) ?? UNAVAILABLE, 0] as const)
    const [[facts, parseMs], [authFacts, authMs]] = await Promise.all([parsing, authenticating])
    auth = authFacts
    timings.parse = parseMs
    timings.auth = authMs

    const t0 = performance.now()
    const result = decide(facts, auth, settings, ctx.sender)
    timings.detect = since(t0)
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

/** Detect, then verdict: the detectors and the scorer over parsed facts. Pure. */
export function decide(
  facts: MessageFacts,
  auth: AuthFacts,
  settings: Settings,
  envelopeFrom?: string,
): Omit<ScanResult, 'auth' | 'timings' | 'error'> {
  const { context, hits: found } = detect(facts, auth, settings, envelopeFrom)
  const { kind, claim, fromDomain, fromAuth, isNotice } = context
  if (facts.truncated) {
    found.push({ symbol: 'SCAN_TRUNCATED', options: [facts.tooManyParts ? `mime_parts>${settings.limits.max_mime_parts}` : String(settings.limits.max_scan_bytes)] })
  }
  const hits = applyComposites(found, settings.composites)
  const score = scoreHits(hits, settings.scores)
  return {
    verdict: verdictOf(isNotice, score, hits, settings.thresholds),
    brand: claim?.brand.id,
    kind: kind?.kind,
    score,
    hits,
    dnsTempfail: isNotice && claimAwaitsDns(claim, fromDomain, fromAuth, settings.domains),
  }
}
