/**
 * Authentication-Results (RFC 8601), read and written: the authserv-id of a value, the
 * results recorded under a trusted one, our own value with every fragment made safe, and
 * whether a value claims our authserv-id.
 */
import libmime from 'libmime'

import { splitStructured, trimEnd } from '../message/find.js'
import { registrableDomain } from '../shared/domain.js'
import type { AuthFacts, DkimFact } from './authenticate.js'

export const AR_HEADER = 'Authentication-Results'

/** Only printable ASCII, one line: what we take from mailauth goes into a header. */
export const headerSafe = (s: string): string =>
  s
    .replace(/\r?\n[ \t]*/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()

/**
 * The authserv-id of an Authentication-Results value: the first token before the first
 * `;` outside quotes and comments, comments stripped, a quoted-string unquoted and its
 * quoted-pairs undone, lower case.
 */
export function authservIdOf(value: string): string {
  const head = (splitStructured(value)[0] ?? '').trim()
  if (!head.startsWith('"')) return head.split(/\s+/)[0]!.toLowerCase()
  // RFC 8601 2.2: authserv-id = value, a token or a quoted-string (RFC 2045): unquoted, its
  // quoted-pairs undone (RFC 5322 3.2.4), so `"shop-notice\.localhost"` is shop-notice.localhost
  let id = ''
  for (let i = 1; i < head.length; i++) {
    const c = head[i]!
    if (c === '"') break
    id += c === '\\' && i + 1 < head.length ? head[++i]! : c
  }
  return id.trim().toLowerCase()
}

const isPropChar = (c: string): boolean => /^[a-z0-9.-]$/i.test(c)

/**
 * The `ptype.property=value` pairs of one resinfo (RFC 8601 2.2), read in one pass: a value
 * is a quoted-string (its quoted-pairs undone) or a run of characters up to white space, `;`
 * or `"`. Written by hand, since the regex for it backtracks polynomially (test/unit/redos.test.ts).
 */
function propspecs(s: string): [string, string][] {
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
  const fromOrg = registrableDomain(dmarc.fromDomain)
  return {
    source: 'trusted-header',
    spf,
    dkim: dkim.map((d) => ({ ...d, aligned: !!fromOrg && registrableDomain(d.domain) === fromOrg })),
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

/** The longest resinfo we write, so that `\t<resinfo>;` stays far within RFC 5322's 998 octets. */
const MAX_RESINFO = 900

/**
 * A resinfo fragment as it may be written into our Authentication-Results: printable
 * ASCII on one line, no `;` (a naive reader splits there, even inside quotes), every
 * quoted-string and comment closed within the fragment, at most MAX_RESINFO characters
 * plus its closers. mailauth quotes what comes from the message (`smtp.helo="x;dmarc=pass"`),
 * but a fragment cut short, or another plugin's, must not leave a quote or comment open:
 * every result after it would read as part of it.
 */
export function resinfoSafe(fragment: string): string {
  let s = headerSafe(fragment).replace(/;/g, '?')
  const cut = s.length > MAX_RESINFO
  if (cut) s = s.slice(0, MAX_RESINFO - 3)
  let out = ''
  let quoted = false
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '\\') {
      // a quoted-pair inside a quoted-string or comment (a lone one at the end would escape
      // our closer); outside them a backslash means nothing, and is not written
      if (quoted || depth > 0) {
        if (i + 1 < s.length) out += c + s[++i]
      } else out += '?'
      continue
    }
    if (quoted) {
      if (c === '"') quoted = false
    } else if (c === '"' && depth === 0) quoted = true
    else if (c === '(') depth++
    else if (c === ')') {
      if (depth === 0) {
        out += '?'
        continue
      }
      depth--
    }
    out += c
  }
  // a fragment nested deeper than any genuine one is written without its structure
  if (depth > 3) return resinfoSafe(s.replace(/[()"\\]/g, '?') + (cut ? '...' : ''))
  return `${out}${cut ? '...' : ''}${quoted ? '"' : ''}${')'.repeat(depth)}`
}

/**
 * The Authentication-Results value: `authserv-id; frag; frag`, folded between
 * fragments so that no line passes 998 octets (mailauth folds inside long ones).
 */
export function formatAuthResults(authservId: string, fragments: readonly string[]): string {
  const id = headerSafe(authservId).replace(/[;()"\\\s]/g, '?').slice(0, MAX_RESINFO)
  return [id, ...(fragments.length ? fragments.map(resinfoSafe) : ['none'])].join(';\r\n\t')
}

/** A domain name as compared here: lower case, without the root's trailing dot. */
const bare = (id: string): string => trimEnd(id.toLowerCase(), '.')

/** Does this Authentication-Results value claim to be written by `authservId`? */
export function isOurAuthResults(value: string, authservId: string): boolean {
  const id = bare(authservId)
  if (bare(authservIdOf(value)) === id) return true
  // an encoded-word spelling of our id is still our id to a client that decodes it
  if (!value.includes('=?')) return false
  try {
    return bare(authservIdOf(libmime.decodeWords(value))) === id
  } catch {
    return true // undecodable and pretending to be encoded: not to be trusted either way
  }
}

