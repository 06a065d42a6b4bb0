/**
 * The sidecar `<message>.json` the plugin writes next to a held message (what it knew
 * when it held it), read back field by field; and, for a message without one, the same
 * facts from its own headers.
 */
import { SIDECAR_EXT } from './names.js'
import { decodeHeaderText, num, parseHeaderBlock, record, sanitizeText, str, strings, writeFileAtomic } from './text.js'

const SIDECAR_VERSION = 1

export interface SidecarSignal {
  readonly symbol: string
  /** the score it had when the message was held (configuration may change later) */
  readonly score: number | null
  readonly options: readonly string[]
}

/** What the plugin knew when it held the message. Fields it could not know are null. */
export interface Sidecar {
  readonly version: number
  /** Haraka's transaction uuid: the message's file name */
  readonly id: string
  /** ISO 8601, when the message was held */
  readonly received: string
  readonly remote: { readonly ip: string | null; readonly host: string | null; readonly helo: string | null }
  /** '' is the null sender */
  readonly envelope: { readonly from: string; readonly to: readonly string[] }
  /** decoded and sanitized */
  readonly from: string | null
  readonly subject: string | null
  readonly message_id: string | null
  readonly size: number | null
  readonly verdict: string | null
  readonly brand: string | null
  readonly kind: string | null
  readonly score: number | null
  /** what shop-notice did: quarantine, … (null: another plugin asked for the quarantine) */
  readonly action: string | null
  readonly signals: readonly SidecarSignal[]
  readonly auth: { readonly spf: string; readonly dkim: readonly string[]; readonly dmarc: string; readonly arc: string } | null
  /** our Authentication-Results header values, as written into the message */
  readonly authentication_results: readonly string[]
}

export interface SidecarInput {
  readonly id: string
  readonly received: Date
  readonly remote: { readonly ip?: string | null; readonly host?: string | null; readonly helo?: string | null }
  readonly envelope: { readonly from: string; readonly to: readonly string[] }
  /** raw header values, undecoded */
  readonly headers: { readonly from?: string; readonly subject?: string; readonly messageId?: string }
  readonly size: number | null
  /** txn.notes.shop_notice as the plugin wrote it (anything else is ignored) */
  readonly summary: unknown
  /** the score of each symbol in force */
  readonly scores: Readonly<Record<string, number>>
  readonly authenticationResults: readonly string[]
}

const nullableText = (v: string | undefined, max?: number): string | null => (v === undefined ? null : decodeHeaderText(v, max))

/** The sidecar for a held message, from what the plugin has at hand. */
export function buildSidecar(input: SidecarInput): Sidecar {
  const s = record(input.summary)
  const auth = record(s.auth)
  return {
    version: SIDECAR_VERSION,
    id: input.id,
    received: input.received.toISOString(),
    remote: { ip: input.remote.ip ?? null, host: input.remote.host ?? null, helo: input.remote.helo ?? null },
    envelope: { from: input.envelope.from, to: [...input.envelope.to] },
    from: nullableText(input.headers.from),
    subject: nullableText(input.headers.subject),
    message_id: input.headers.messageId === undefined ? null : sanitizeText(input.headers.messageId, 998),
    size: input.size,
    verdict: str(s.verdict),
    brand: str(s.brand),
    kind: str(s.kind),
    score: num(s.score),
    action: str(s.action),
    signals: (Array.isArray(s.signals) ? s.signals : []).map(record).flatMap((h) => {
      const symbol = str(h.symbol)
      return symbol ? [{ symbol, score: num(input.scores[symbol]), options: strings(h.options) }] : []
    }),
    auth: Object.keys(auth).length
      ? { spf: str(auth.spf) ?? 'none', dkim: strings(auth.dkim), dmarc: str(auth.dmarc) ?? 'none', arc: str(auth.arc) ?? 'none' }
      : null,
    authentication_results: [...input.authenticationResults],
  }
}

/** A sidecar read back: checked field by field, so a damaged file cannot break a listing. */
export function parseSidecar(text: string): Sidecar {
  const v = record(JSON.parse(text))
  if (v.version !== SIDECAR_VERSION) throw new Error(`unknown sidecar version ${JSON.stringify(v.version)}`)
  const id = str(v.id)
  const received = str(v.received)
  if (!id || !received || Number.isNaN(Date.parse(received))) throw new Error('sidecar without id or received time')
  const remote = record(v.remote)
  const envelope = record(v.envelope)
  const auth = v.auth === null ? null : record(v.auth)
  return {
    version: SIDECAR_VERSION,
    id,
    received,
    remote: { ip: str(remote.ip), host: str(remote.host), helo: str(remote.helo) },
    envelope: { from: str(envelope.from) ?? '', to: strings(envelope.to) },
    from: str(v.from),
    subject: str(v.subject),
    message_id: str(v.message_id),
    size: num(v.size),
    verdict: str(v.verdict),
    brand: str(v.brand),
    kind: str(v.kind),
    score: num(v.score),
    action: str(v.action),
    signals: (Array.isArray(v.signals) ? v.signals : []).map(record).flatMap((h) => {
      const symbol = str(h.symbol)
      return symbol ? [{ symbol, score: num(h.score), options: strings(h.options) }] : []
    }),
    auth: auth && Object.keys(auth).length ? { spf: str(auth.spf) ?? 'none', dkim: strings(auth.dkim), dmarc: str(auth.dmarc) ?? 'none', arc: str(auth.arc) ?? 'none' } : null,
    authentication_results: strings(v.authentication_results),
  }
}

/** Writes `<message>.json` atomically. */
export async function writeSidecar(messageFile: string, sidecar: Sidecar): Promise<string> {
  const file = `${messageFile}${SIDECAR_EXT}`
  await writeFileAtomic(file, `${JSON.stringify(sidecar, null, 2)}\n`)
  return file
}

const VERDICT_RE = /^\s*([a-z]+)\s*;\s*brand=([^;\s]+)\s*;\s*kind=([^;\s]+)\s*;\s*score=(-?[\d.]+)\s*;\s*signals=([A-Z0-9_,]+|-)/

/** The facts of a held message without a sidecar, from its own headers (X-Shop-Notice, Subject, …). */
export function infoFromHeaders(id: string, head: string, received: Date, size: number): Sidecar {
  const fields = parseHeaderBlock(head)
  const first = (name: string): string | undefined => fields.find((f) => f.name.toLowerCase() === name.toLowerCase())?.raw
  const v = VERDICT_RE.exec((first('X-Shop-Notice') ?? '').replace(/\r?\n[ \t]+/g, ' '))
  const dash = (s: string | undefined): string | null => (!s || s === '-' ? null : sanitizeText(s, 64))
  return {
    version: SIDECAR_VERSION,
    id,
    received: received.toISOString(),
    remote: { ip: null, host: null, helo: null },
    envelope: { from: '', to: [] },
    from: nullableText(first('From')),
    subject: nullableText(first('Subject')),
    message_id: first('Message-ID') === undefined ? null : sanitizeText(first('Message-ID')!, 998),
    size,
    verdict: v ? v[1]! : null,
    brand: dash(v?.[2]),
    kind: dash(v?.[3]),
    score: v ? Number(v[4]) : null,
    action: null,
    signals: v && v[5] !== '-' ? v[5]!.split(',').map((symbol) => ({ symbol, score: null, options: [] })) : [],
    auth: null,
    authentication_results: [],
  }
}

