/**
 * The X-Shop-Notice header and the subject tag we write, and how inbound copies of our
 * headers in a spelling Haraka does not parse are recognised (Authentication-Results: auth/results.ts). Nothing
 * from the message reaches a header raw: every value is printable ASCII on one
 * line, and lines stay within RFC 5322's limit.
 */
import { AR_HEADER, isOurAuthResults } from '../auth/results.js'
import type { Hit } from './symbols.js'
import { type Verdict, formatScore } from './score.js'

export const VERDICT_HEADER = 'X-Shop-Notice'
/** The header on top of a copy released from the quarantine (quarantine/release.ts writes it, properly spelled). */
export const RELEASE_HEADER = 'X-Shop-Notice-Released'

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

/**
 * Is this raw header line (as Haraka keeps it, folds included) an X-Shop-Notice, an
 * X-Shop-Notice-Released, or an Authentication-Results / Original-Authentication-Results
 * under our authserv-id, in a spelling Haraka's parser does not take for a field: white
 * space before the colon, or a fold between the name and the colon. RFC 5322's obsolete
 * syntax allows the first (obs-optional), and mail clients read both so. A release header
 * spelled so is never ours (a release writes `X-Shop-Notice-Released: …`).
 */
export function isForgedLine(line: string, authservId: string): boolean {
  const colon = line.indexOf(':')
  if (colon <= 0) return false
  const written = line.slice(0, colon)
  const name = written.trim().toLowerCase()
  if (name === written.toLowerCase()) return false // a proper field: Haraka's remove_header() takes it
  if (name === VERDICT_HEADER.toLowerCase() || name === RELEASE_HEADER.toLowerCase()) return true
  const isAr = name === AR_HEADER.toLowerCase() || name === `original-${AR_HEADER.toLowerCase()}`
  return isAr && isOurAuthResults(line.slice(colon + 1), authservId)
}

