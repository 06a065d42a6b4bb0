/**
 * One scan: the same code path for the Haraka plugin and `shop-notice scan`.
 * Parsing and authentication run side by side; detectors then see both.
 * scan() never throws: an internal failure is the verdict `error`.
 */
import { type AuthFacts, type SmtpContext, UNAVAILABLE, authenticateMessage, hasTempError, trustedAuthResults } from './auth.js'
import type { Settings } from './config.js'
import { authHits, brandHits, claimBrand, detectKind, senderBrands } from './detect.js'
import { type MessageFacts, readMessage } from './message.js'
import type { ResolveFn } from './resolver.js'
import type { Hit } from './symbols.js'
import { type Verdict, scoreHits, verdictOf } from './verdict.js'

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
    const parsing = timed(() => readMessage(raw, settings.limits.max_scan_bytes))
    const authenticating = opts.resolve
      ? timed(() => authenticateMessage(raw, ctx, opts.resolve!, opts.authservId))
      : parsing.then(([facts]) => [trustedAuthResults(facts.authResults, settings.auth.trusted_authserv_ids) ?? UNAVAILABLE, 0] as const)
    const [[facts, parseMs], [authFacts, authMs]] = await Promise.all([parsing, authenticating])
    auth = authFacts
    timings.parse = parseMs
    timings.auth = authMs

    const t0 = performance.now()
    const result = decide(facts, auth, settings)
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

/** The detectors and the scorer over parsed facts. Pure. */
export function decide(
  facts: MessageFacts,
  auth: AuthFacts,
  settings: Settings,
): Omit<ScanResult, 'auth' | 'timings' | 'error'> {
  const kind = detectKind(facts)
  const sender = senderBrands(facts, settings.registry)
  const claim = claimBrand(sender, facts.subject, settings.registry, !!kind)
  const hits: Hit[] = [...authHits(auth), ...brandHits(claim, sender, facts.from?.domain, auth)]
  if (facts.truncated) hits.push({ symbol: 'SCAN_TRUNCATED', options: [String(settings.limits.max_scan_bytes)] })
  const score = scoreHits(hits, settings.scores)
  return {
    verdict: verdictOf(!!kind, score, hits, settings.thresholds),
    brand: claim?.brand.id,
    kind: kind?.kind,
    score,
    hits,
    dnsTempfail: !!kind && !!claim && hasTempError(auth) && auth.dmarc.result !== 'pass',
  }
}
