/**
 * What a release leaves behind: `<message>.release` (the claim while sending, then the
 * record), and the header put on top of a released copy.
 */
import { isMessageId } from './names.js'
import { num, record, str, strings } from './text.js'
export type ReleaseState = 'sending' | 'released' | 'unknown'

/** `<message>.release`: the claim while sending, then the record. */
export interface ReleaseRecord {
  readonly state: ReleaseState
  readonly by: string
  /** ISO 8601 */
  readonly at: string
  /** host:port it went to */
  readonly to: string
  /** the envelope it was sent with */
  readonly envelope?: { readonly from: string; readonly to: readonly string[] }
  /** the next hop's answer */
  readonly reply?: string
  readonly error?: string
  /** the one-time token of a claim being sent; dropped once it is settled */
  readonly token?: string
  readonly pid?: number
}

export function parseRelease(text: string): ReleaseRecord {
  try {
    const v = record(JSON.parse(text))
    const state = v.state === 'sending' || v.state === 'released' || v.state === 'unknown' ? v.state : 'unknown'
    const envelope = record(v.envelope)
    return {
      state,
      by: str(v.by) ?? '?',
      at: str(v.at) ?? '?',
      to: str(v.to) ?? '?',
      ...(Object.keys(envelope).length ? { envelope: { from: str(envelope.from) ?? '', to: strings(envelope.to) } } : {}),
      ...(str(v.reply) ? { reply: str(v.reply)! } : {}),
      ...(str(v.error) ? { error: str(v.error)! } : {}),
      ...(str(v.token) ? { token: str(v.token)! } : {}),
      ...(num(v.pid) ? { pid: num(v.pid)! } : {}),
    }
  } catch {
    // a claim whose process died before it wrote anything: claimed, outcome unknown
    return { state: 'unknown', by: '?', at: '?', to: '?', error: 'the release record is empty or damaged' }
  }
}

/** The by= value: a login name or similar, nothing that could break the header. */
export const isReleaser = (by: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/.test(by)

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number): string => String(n).padStart(2, '0')

/** An RFC 5322 date-time in UTC: `Thu, 21 May 2026 10:00:00 +0000`. */
export const rfc5322Date = (d: Date): string =>
  `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`

export interface ReleaseHeader {
  readonly by: string
  readonly at: string
  readonly id: string
  readonly token: string
}

/** `by=<user>; at=<RFC 5322 date>; id=<id>; token=<hex>` */
export const formatReleaseHeader = (h: ReleaseHeader): string => `by=${h.by}; at=${h.at}; id=${h.id}; token=${h.token}`

export function parseReleaseHeader(value: string): ReleaseHeader | undefined {
  const fields: Record<string, string> = {}
  for (const part of value.replace(/\r?\n[ \t]+/g, ' ').split(';')) {
    const m = /^\s*([a-z]+)=([^]*)$/i.exec(part)
    if (m) fields[m[1]!.toLowerCase()] = m[2]!.trim()
  }
  const { by, at, id, token } = fields
  if (!by || !at || !id || !token || !isMessageId(id) || !/^[0-9a-f]{32}$/.test(token)) return undefined
  return { by, at, id, token }
}

