/**
 * The headers we write, and how inbound copies of them are recognised. Nothing
 * from the message reaches a header raw: every value is printable ASCII on one
 * line, and lines stay within RFC 5322's limit.
 */
import libmime from 'libmime'

import { authservIdOf, headerSafe } from '../auth/authenticate.js'
import { trimEnd } from '../message/find.js'
import type { Hit } from './symbols.js'
import type { Verdict } from './score.js'

export const VERDICT_HEADER = 'X-Shop-Notice'
export const AR_HEADER = 'Authentication-Results'

/** The longest line RFC 5322 (2.1.1) allows, CRLF not counted. */
const MAX_LINE = 998

/** A token for brand= and kind=: lowercase letters, digits, - and _ only. */
const token = (s: string | undefined): string => (s && /^[a-z0-9_-]{1,64}$/.test(s) ? s : '-')

export interface VerdictFields {
  readonly verdict: Verdict
  readonly brand?: string
  readonly kind?: string
  readonly score: number
  readonly hits: readonly Hit[]
}

/**
 * `<verdict>; brand=<id|->; kind=<kind|->; score=<number>; signals=<A,B|->` (INTERFACE.md).
 * Folded before `signals=` when the line would pass RFC 5322's 998 octets: unfolded, it
 * reads exactly the same.
 */
export function formatVerdict(v: VerdictFields): string {
  const signals = [...new Set(v.hits.map((h) => h.symbol))]
  const list = signals.length ? signals.join(',') : '-'
  const head = `${v.verdict}; brand=${token(v.brand)}; kind=${token(v.kind)}; score=${formatScore(v.score)};`
  const fits = `${VERDICT_HEADER}: ${head} signals=${list}`.length <= MAX_LINE
  return `${head}${fits ? ' ' : '\r\n '}signals=${list}`
}

export const formatScore = (n: number): string => String(Math.round(n * 100) / 100)

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

/**
 * A Subject value (raw, as Haraka keeps it: folds as `\n`, a final `\n`) with `prefix`
 * put before it (tag mode): read by a mail client, it is the prefix, one space and the
 * sender's Subject. Nothing else of the value changes. A non-ASCII prefix is written as
 * an encoded-word (RFC 2047); the first line is folded after the prefix when it would
 * pass 998 octets (`Subject: ` counted).
 */
export function prefixSubject(prefix: string, value: string): string {
  // a value that starts on the next line: the prefix goes where its text starts
  const folds = /^(?:\r?\n[ \t]+)*/.exec(value)?.[0] ?? ''
  const text = value.slice(folds.length)
  const firstLine = text.split('\n', 1)[0] ?? ''
  const startsEncoded = firstLine.startsWith('=?')
  let head: string
  if (/^[\x20-\x7e]*$/.test(prefix)) head = `${prefix} `
  // white space between two encoded-words is not shown (RFC 2047 6.2): the space goes inside then
  else head = `=?UTF-8?B?${Buffer.from(startsEncoded ? `${prefix} ` : prefix).toString('base64')}?= `
  const lineStart = folds ? (folds.split('\n').at(-1)?.length ?? 0) : 'Subject: '.length
  const fits = lineStart + head.length + firstLine.replace(/\r$/, '').length <= MAX_LINE
  return `${folds}${fits ? head : `${head.trimEnd()}\n `}${text}`
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

/**
 * Is this raw header line (as Haraka keeps it, folds included) an X-Shop-Notice, or an
 * Authentication-Results / Original-Authentication-Results under our authserv-id, in a
 * spelling Haraka's parser does not take for a field: white space before the colon.
 * RFC 5322's obsolete syntax allows it (obs-optional), and mail clients read it so.
 */
export function isForgedLine(line: string, authservId: string): boolean {
  const colon = line.indexOf(':')
  if (colon <= 0) return false
  const written = line.slice(0, colon)
  const name = written.trim().toLowerCase()
  if (name === written.toLowerCase()) return false // a proper field: Haraka's remove_header() takes it
  if (name === VERDICT_HEADER.toLowerCase()) return true
  const isAr = name === AR_HEADER.toLowerCase() || name === `original-${AR_HEADER.toLowerCase()}`
  return isAr && isOurAuthResults(line.slice(colon + 1), authservId)
}

