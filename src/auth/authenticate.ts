/**
 * Authentication: mailauth's authenticate() (DKIM, SPF, ARC, DMARC) reduced to
 * the facts the detectors need, and the RFC 8601 fragments for our
 * Authentication-Results header. Offline, the same facts can come from a recorded
 * Authentication-Results header whose authserv-id the configuration trusts (results.ts).
 */
import { authenticate } from 'mailauth'

import { alignedWith, registrableDomain } from '../shared/domain.js'
import { type DkimLimits, boundDkimWork, skippedFragment, yieldingStream } from './dkim-bound.js'
import { type ResolveFn, dnsNameProblem } from './resolver.js'
import { factsFromAuthResults, headerSafe } from './results.js'
import { sealerTrusted } from './trust.js'

/** the most of a message mailauth reads in one event-loop turn */
const CHUNK_BYTES = 64 * 1024

export interface DkimFact {
  readonly result: string
  readonly domain: string
  readonly aligned: boolean
}

export interface AuthFacts {
  /** mailauth: checked now; trusted-header: an upstream relay's recorded results; unavailable: nothing known */
  readonly source: 'mailauth' | 'trusted-header' | 'unavailable'
  readonly spf: { readonly result: string; readonly domain?: string }
  readonly dkim: readonly DkimFact[]
  readonly dmarc: {
    readonly result: string
    /** the From (author) domain DMARC evaluated */
    readonly fromDomain?: string
    /** effective policy: none, quarantine or reject */
    readonly policy?: string
  }
  readonly arc: { readonly result: string }
  /**
   * Whose recorded results these are, when not our own check: `relay <authserv-id>` (a trusted
   * gateway's Authentication-Results), `arc i=<n> d=<sealer>` (a trusted ARC sealer's), or
   * `header <authserv-id>` (an offline scan's trusted Authentication-Results)
   */
  readonly via?: string
  /** RFC 8601 resinfo fragments, `spf=pass smtp.mailfrom=…`, in the order spf, dkim, dmarc, arc */
  readonly fragments: readonly string[]
}

export const TEMP_RESULTS: ReadonlySet<string> = new Set(['temperror', 'temperr'])

export const UNAVAILABLE: AuthFacts = {
  source: 'unavailable',
  spf: { result: 'none' },
  dkim: [],
  dmarc: { result: 'none' },
  arc: { result: 'none' },
  fragments: [],
}

export interface SmtpContext {
  readonly ip?: string
  readonly helo?: string
  /** MAIL FROM address, empty for the null sender */
  readonly sender?: string
  /** RCPT TO addresses (not used by authentication; the detectors read the recipients' domains) */
  readonly recipients?: readonly string[]
}

/**
 * The message with every bare LF as CRLF, as SMTP delivers it (a message from SMTP comes
 * back as it is). mailauth reads lines as CRLF too, but rewrites a bare LF byte by byte
 * and then handles each line as a chunk of its own: a file with LF endings costs it a
 * third more than the same message with CRLF.
 */
export function withCrlf(raw: Buffer): Buffer {
  let lf = raw.indexOf(0x0a)
  while (lf > 0 && raw[lf - 1] === 0x0d) lf = raw.indexOf(0x0a, lf + 1)
  if (lf < 0) return raw
  const parts: Buffer[] = []
  const crlf = Buffer.from('\r\n')
  let from = 0
  for (; lf >= 0; lf = raw.indexOf(0x0a, lf + 1)) {
    if (lf > 0 && raw[lf - 1] === 0x0d) continue
    parts.push(raw.subarray(from, lf), crlf)
    from = lf + 1
  }
  parts.push(raw.subarray(from))
  return Buffer.concat(parts)
}

/**
 * Runs mailauth over the raw message (CRLF, dot-unstuffed). `authservId` becomes
 * the authserv-id mailauth writes into its own comments. Throws only on a bug in
 * mailauth itself; DNS trouble comes back as temperror results.
 */
export async function authenticateMessage(
  raw: Buffer,
  ctx: SmtpContext,
  resolver: ResolveFn,
  authservId: string,
  limits?: DkimLimits,
  trustedSealers: readonly string[] = [],
): Promise<AuthFacts> {
  // at most so many DKIM signatures and body bytes hashed per message (src/auth/dkim-bound.ts)
  const bounded = limits ? boundDkimWork(withCrlf(raw), limits) : undefined
  // a big message is fed one chunk per event-loop turn, so that other connections are served while
  // it is hashed; one that fits in a chunk goes whole (mailauth's Buffer path, no extra turns)
  const message = bounded?.message ?? withCrlf(raw)
  const res = await authenticate(message.length > CHUNK_BYTES ? yieldingStream(message, CHUNK_BYTES) : message, {
    ip: ctx.ip,
    helo: ctx.helo,
    sender: ctx.sender ?? '',
    mta: authservId,
    resolver: resolver as never,
    disableBimi: true,
  })

  const fragments: string[] = []
  // without a client address (a hand scan without --ip) SPF cannot be checked: that is
  // "none", not the temperror mailauth reports, which would read as a DNS failure
  const spf = ctx.ip ? res.spf || undefined : undefined
  fragments.push(spf ? headerSafe(spf.info) : 'spf=none (no client address to check)')
  const dkim: DkimFact[] = []
  for (const row of res.dkim?.results ?? []) {
    // every signature left out: not "dkim=none (message not signed)"
    if (bounded?.skipped.length && !row.signingDomain && row.status.result === 'none') continue
    // a key name that cannot exist (the selector or d= written so): the signature can never be
    // verified, a permanent error of that signature (RFC 6376 6.1.2 PERMFAIL), never temperror
    const keyName = row.signingDomain ? `${row.selector ?? ''}._domainkey.${row.signingDomain}` : undefined
    const problem = keyName !== undefined ? dnsNameProblem(keyName) : undefined
    const result = problem ? 'permerror' : row.status.result
    fragments.push(headerSafe(problem ? row.info.replace(/^dkim=[a-z]+(?: \([^()]*\))?/, 'dkim=permerror (the key name cannot exist in the DNS)') : row.info))
    if (row.signingDomain) {
      dkim.push({ result, domain: row.signingDomain.toLowerCase(), aligned: !!row.status.aligned })
    }
  }
  if (bounded?.skipped.length && limits) fragments.push(skippedFragment(bounded.skipped, limits))
  const dmarc = res.dmarc || undefined
  const fromDomain = dmarc ? dmarc.status.header?.from?.toLowerCase() : undefined
  // mailauth's DMARC counts only identifiers that passed: one of the author's domain whose check
  // failed for DNS might have passed, so then DMARC has not failed yet, it could not be finished
  // (RFC 8601 2.7.1 temperror: "a later attempt might produce a final result")
  const aligned = alignedWith(registrableDomain(fromDomain))
  const unfinished =
    dmarc?.status.result === 'fail' &&
    (dkim.some((d) => TEMP_RESULTS.has(d.result) && aligned(d.domain)) || (!!spf && TEMP_RESULTS.has(spf.status.result) && aligned(spf.domain)))
  if (unfinished) {
    fragments.push(`dmarc=temperror (an aligned SPF or DKIM check failed for DNS${dmarc.policy ? `, p=${dmarc.policy}` : ''}) header.from=${headerSafe(fromDomain ?? '')}`)
  } else if (dmarc) fragments.push(headerSafe(dmarc.info))
  else fragments.push(`dmarc=none${res.dmarcSkipReason ? ` (${res.dmarcSkipReason})` : ''}`)
  const arc = res.arc || undefined
  fragments.push(arc?.info ? headerSafe(arc.info) : 'arc=none')

  // a valid ARC chain whose newest seal a trusted sealer made: judged on what that sealer
  // recorded (RFC 8617 7.2), while our header still says what we found ourselves
  const sealed = arc?.status.result === 'pass' ? sealedBy(arc) : undefined
  if (sealed && sealerTrusted(sealed.domain, trustedSealers) && sealed.recorded) {
    const recorded = factsFromAuthResults(sealed.recorded)
    return { ...recorded, arc: { result: 'pass' }, via: `arc i=${sealed.instance} d=${sealed.domain}`, fragments }
  }

  // mailauth reports spf first and dkim next in its own header; RFC 8601 leaves the order free,
  // ours is the one INTERFACE.md documents: spf, dkim, dmarc, arc
  return {
    source: 'mailauth',
    spf: { result: spf?.status.result ?? 'none', domain: spf?.domain },
    dkim,
    dmarc: dmarc ? { result: unfinished ? 'temperror' : dmarc.status.result, fromDomain, policy: dmarc.policy || undefined } : { result: 'none' },
    arc: { result: arc?.status.result ?? 'none' },
    fragments,
  }
}

interface ArcLink {
  readonly i?: number
  readonly 'arc-seal'?: { readonly parsed?: { readonly d?: { readonly value?: unknown } } }
  readonly 'arc-authentication-results'?: { readonly original?: unknown }
}

/**
 * The newest ARC set of a chain mailauth validated: its instance, the seal's signing domain
 * and the ARC-Authentication-Results value that sealer recorded (`authserv-id; spf=… dkim=…`,
 * without the `i=N;` tag). mailauth keeps the chain on the result as a non-enumerable property.
 */
function sealedBy(arc: object): { instance: number; domain: string; recorded?: string } | undefined {
  const chain = (arc as { chain?: unknown }).chain
  if (!Array.isArray(chain) || !chain.length) return undefined
  const last = chain.at(-1) as ArcLink
  const domain = last['arc-seal']?.parsed?.d?.value
  if (typeof last.i !== 'number' || typeof domain !== 'string') return undefined
  const original = last['arc-authentication-results']?.original
  const line = Buffer.isBuffer(original) ? original.toString('utf8') : typeof original === 'string' ? original : undefined
  // `ARC-Authentication-Results: i=1; mx.sealer.example; spf=pass …`
  const m = line === undefined ? null : /^[^:]*:\s*i\s*=\s*\d+\s*;([\s\S]*)$/i.exec(line)
  return { instance: last.i, domain: domain.toLowerCase(), ...(m?.[1]?.trim() ? { recorded: m[1].trim() } : {}) }
}


