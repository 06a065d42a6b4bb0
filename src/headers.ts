/**
 * The headers we write, and how inbound copies of them are recognised. Nothing
 * from the message reaches a header raw: every value is printable ASCII on one
 * line, and lines stay within RFC 5322's limit.
 */
import libmime from 'libmime'

import { authservIdOf, headerSafe } from './auth.js'
import type { Hit } from './symbols.js'
import type { Verdict } from './verdict.js'

export const VERDICT_HEADER = 'X-Shop-Notice'
export const AR_HEADER = 'Authentication-Results'

/** A token for brand= and kind=: lowercase letters, digits, - and _ only. */
const token = (s: string | undefined): string => (s && /^[a-z0-9_-]{1,64}$/.test(s) ? s : '-')

export interface VerdictFields {
  readonly verdict: Verdict
  readonly brand?: string
  readonly kind?: string
  readonly score: number
  readonly hits: readonly Hit[]
}

/** `<verdict>; brand=<id|->; kind=<kind|->; score=<number>; signals=<A,B|->` (INTERFACE.md). */
export function formatVerdict(v: VerdictFields): string {
  const signals = [...new Set(v.hits.map((h) => h.symbol))]
  const list = signals.length ? signals.join(',') : '-'
  return `${v.verdict}; brand=${token(v.brand)}; kind=${token(v.kind)}; score=${formatScore(v.score)}; signals=${list}`
}

export const formatScore = (n: number): string => String(Math.round(n * 100) / 100)

/**
 * The Authentication-Results value: `authserv-id; frag; frag`, folded between
 * fragments so that no line passes 998 octets (mailauth folds inside long ones).
 */
export function formatAuthResults(authservId: string, fragments: readonly string[]): string {
  const parts = [headerSafe(authservId), ...(fragments.length ? fragments.map(headerSafe) : ['none'])]
  return parts.map((p) => (p.length > 900 ? `${p.slice(0, 897)}...` : p)).join(';\r\n\t')
}

/** Does this Authentication-Results value claim to be written by `authservId`? */
export function isOurAuthResults(value: string, authservId: string): boolean {
  const id = authservId.toLowerCase()
  if (authservIdOf(value) === id) return true
  // an encoded-word spelling of our id is still our id to a client that decodes it
  if (!value.includes('=?')) return false
  try {
    return authservIdOf(libmime.decodeWords(value)) === id
  } catch {
    return true // undecodable and pretending to be encoded: not to be trusted either way
  }
}
