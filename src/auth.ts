/**
 * Authentication: mailauth's authenticate() (DKIM, SPF, ARC, DMARC) reduced to
 * the facts the detectors need, and the RFC 8601 fragments for our
 * Authentication-Results header. Offline, the same facts can come from a recorded
 * Authentication-Results header whose authserv-id the configuration trusts.
 */
import { authenticate } from 'mailauth'
import { getDomain } from 'tldts'

import { type DkimLimits, boundDkimWork, skippedFragment, yieldingStream } from './auth/dkim-bound.js'
import { splitStructured } from './linear.js'
import type { ResolveFn } from './resolver.js'

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
}

/** Only printable ASCII, one line: what we take from mailauth goes into a header. */
export const headerSafe = (s: string): string =>
  s
    .replace(/\r?\n[ \t]*/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()

const registrable = (d: string | undefined): string | undefined =>
  d ? (getDomain(d.toLowerCase(), { allowPrivateDomains: true }) ?? d.toLowerCase()) : undefined

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
): Promise<AuthFacts> {
  // at most so many DKIM signatures and body bytes hashed per message (src/auth/dkim-bound.ts)
  const bounded = limits ? boundDkimWork(withCrlf(raw), limits) : undefined
  // fed one chunk per event-loop turn: other connections are served while a big message is hashed
  const res = await authenticate(yieldingStream(bounded?.message ?? withCrlf(raw)), {
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
    fragments.push(headerSafe(row.info))
    if (row.signingDomain) {
      dkim.push({ result: row.status.result, domain: row.signingDomain.toLowerCase(), aligned: !!row.status.aligned })
    }
  }
  if (bounded?.skipped.length && limits) fragments.push(skippedFragment(bounded.skipped, limits))
  const dmarc = res.dmarc || undefined
  const fromDomain = dmarc ? dmarc.status.header?.from?.toLowerCase() : undefined
  // mailauth's DMARC counts only identifiers that passed: one of the author's domain whose check
  // failed for DNS might have passed, so then DMARC has not failed yet, it could not be finished
  // (RFC 8601 2.7.1 temperror: "a later attempt might produce a final result")
  const fromOrg = registrable(fromDomain)
  const unfinished =
    dmarc?.status.result === 'fail' &&
    !!fromOrg &&
    (dkim.some((d) => TEMP_RESULTS.has(d.result) && registrable(d.domain) === fromOrg) ||
      (!!spf && TEMP_RESULTS.has(spf.status.result) && registrable(spf.domain) === fromOrg))
  if (unfinished) {
    fragments.push(`dmarc=temperror (an aligned SPF or DKIM check failed for DNS${dmarc.policy ? `, p=${dmarc.policy}` : ''}) header.from=${headerSafe(fromDomain ?? '')}`)
  } else if (dmarc) fragments.push(headerSafe(dmarc.info))
  else fragments.push(`dmarc=none${res.dmarcSkipReason ? ` (${res.dmarcSkipReason})` : ''}`)
  const arc = res.arc || undefined
  fragments.push(arc?.info ? headerSafe(arc.info) : 'arc=none')

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

/**
 * The authserv-id of an Authentication-Results value: the first token before the first
 * `;` outside quotes and comments, comments stripped, quotes taken off, lower case.
 */
export function authservIdOf(value: string): string {
  const head = splitStructured(value)[0] ?? ''
  return head
    .trim()
    .split(/\s+/)[0]!
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase()
}

const isPropChar = (c: string): boolean => /^[a-z0-9.-]$/i.test(c)

/**
 * The `ptype.property=value` pairs of one resinfo (RFC 8601 2.2), read in one pass: a value
 * is a quoted-string (its quoted-pairs undone) or a run of characters up to white space, `;`
 * or `"`. Written by hand, since the regex for it backtracks polynomially (test/redos.test.ts).
 */
export function propspecs(s: string): [string, string][] {
  const out: [string, string][] = []
  let i = 0
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  }
  while (i < s.length) {
    if (!isPropChar(s[i]!)) {
      i++
      continue
    }
    const start = i
    while (i < s.length && isPropChar(s[i]!)) i++
    const name = s.slice(start, i).toLowerCase()
    skipSpace()
    if (s[i] !== '=' || !/^[a-z0-9-]+\.[a-z0-9.-]+$/.test(name)) continue
    i++
    skipSpace()
    let value = ''
    if (s[i] === '"') {
      i++
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++
        value += s[i]
        i++
      }
      i++ // the closing quote
    } else {
      const from = i
      while (i < s.length && !/[\s;"]/.test(s[i]!)) i++
      value = s.slice(from, i)
    }
    if (value) out.push([name, value])
  }
  return out
}

/**
 * Reads the results recorded in an Authentication-Results value (RFC 8601):
 * `mx.example; spf=pass smtp.mailfrom=a@b; dkim=pass header.d=b; dmarc=pass header.from=b`.
 */
export function factsFromAuthResults(value: string): AuthFacts {
  const unfolded = value.replace(/\r?\n[ \t]*/g, ' ')
  const parts = splitStructured(unfolded)
    .slice(1)
    .map((p) => p.trim())
    .filter(Boolean)

  let spf: AuthFacts['spf'] = { result: 'none' }
  let dmarc: AuthFacts['dmarc'] = { result: 'none' }
  let arc: AuthFacts['arc'] = { result: 'none' }
  const dkim: DkimFact[] = []
  const fragments: string[] = []

  for (const part of parts) {
    const m = /^([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$/i.exec(part)
    if (!m) continue
    const method = m[1]!.toLowerCase()
    const result = m[2]!.toLowerCase()
    const props = new Map<string, string>()
    for (const [name, v] of propspecs(m[3]!)) props.set(name, v)
    const domainOf = (v: string | undefined): string | undefined => v?.replace(/^.*@/, '').toLowerCase() || undefined
    switch (method) {
      case 'spf':
        spf = { result, domain: domainOf(props.get('smtp.mailfrom') ?? props.get('smtp.helo')) }
        break
      case 'dkim': {
        const d = domainOf(props.get('header.d') ?? props.get('header.i'))
        if (d) dkim.push({ result, domain: d, aligned: false })
        break
      }
      case 'dmarc':
        dmarc = {
          result,
          fromDomain: domainOf(props.get('header.from')),
          policy: props.get('policy.dmarc')?.toLowerCase(),
        }
        break
      case 'arc':
        arc = { result }
        break
      default:
        continue
    }
    fragments.push(headerSafe(part))
  }
  const fromOrg = registrable(dmarc.fromDomain)
  return {
    source: 'trusted-header',
    spf,
    dkim: dkim.map((d) => ({ ...d, aligned: !!fromOrg && registrable(d.domain) === fromOrg })),
    dmarc,
    arc,
    fragments,
  }
}

/** The first (topmost, so most recent) Authentication-Results header written by a trusted authserv-id. */
export function trustedAuthResults(values: readonly string[], trusted: readonly string[]): AuthFacts | undefined {
  if (!trusted.length) return undefined
  const ids = new Set(trusted.map((t) => t.toLowerCase()))
  const value = values.find((v) => ids.has(authservIdOf(v)))
  return value === undefined ? undefined : factsFromAuthResults(value)
}

/** The registrable domain that aligned DMARC passed for, or undefined. */
export function alignedPassDomain(auth: AuthFacts): string | undefined {
  return auth.dmarc.result === 'pass' ? registrable(auth.dmarc.fromDomain) : undefined
}

/** True when some result could not be had because DNS failed for now. */
export function hasTempError(auth: AuthFacts): boolean {
  return (
    TEMP_RESULTS.has(auth.spf.result) || TEMP_RESULTS.has(auth.dmarc.result) || auth.dkim.some((d) => TEMP_RESULTS.has(d.result))
  )
}
