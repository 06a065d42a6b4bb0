/**
 * What a person reading the message would see: decoded headers, display names and
 * text, from any charset Japanese mail uses (postal-mime decodes with TextDecoder,
 * which in Node's full-ICU builds knows ISO-2022-JP, Shift_JIS and EUC-JP).
 */
import PostalMime from 'postal-mime'

import { headerBlock } from '../shared/domain.js'
import { anchorsIn, stripBlocks, trimEnd } from './find.js'

export interface Mailbox {
  readonly name: string
  readonly address: string
  /** lowercase domain of the address, '' when there is none */
  readonly domain: string
}

/** A link as the reader meets it: where it goes and, for an HTML anchor, the text shown. */
export interface Link {
  /** the URL as written (entities decoded) */
  readonly url: string
  /** lowercase scheme without the colon: http, https, mailto… */
  readonly scheme: string
  /** lowercase host in ASCII (IDNs as xn--), '' when the URL has none */
  readonly host: string
  /** the visible text of an HTML anchor */
  readonly text?: string
  readonly source: 'html' | 'text'
}

export interface Attachment {
  readonly filename: string
  readonly mimeType: string
  /** shown in the body (a logo, a delivery photo), not offered as a file */
  readonly inline: boolean
}

export interface MessageFacts {
  readonly subject: string
  readonly from?: Mailbox
  readonly replyTo: readonly Mailbox[]
  /** plain text, or HTML turned into text when there is no plain part */
  readonly text: string
  /** links of the HTML part (with their visible text) and URLs written in the text, at most MAX_LINKS */
  readonly links: readonly Link[]
  /** raw values of every Authentication-Results header, topmost first */
  readonly authResults: readonly string[]
  readonly attachments: readonly Attachment[]
  /** the domain of the mailing list that carried the message (List-Id), if any */
  readonly listDomain?: string
  /** true when the message was larger than the scan limit, or had more MIME parts than MAX_PARTS, and only its beginning was read */
  readonly truncated: boolean
  /** true when it was cut for its MIME parts */
  readonly tooManyParts: boolean
}

/** Links read per message: enough for any notice, bounded for a hostile one. */
export const MAX_LINKS = 200

/**
 * MIME parts read per message, as Haraka's own `[max] mime_parts` counts them: past it
 * the rest is not parsed. postal-mime spends about 0.1 ms on each part, so 5 MB of empty
 * parts would hold the event loop for most of a minute.
 */
export const MAX_PARTS = 1000

/** Where the line starting with `--` after the first `max` of them begins (a part's delimiter line), or -1. */
function partsCut(raw: Buffer, max: number): number {
  let count = 0
  for (let i = raw.indexOf('\n--'); i >= 0; i = raw.indexOf('\n--', i + 3)) {
    if (++count > max) return i + 1
  }
  return -1
}

const domainOf = (address: string): string => {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase().replace(/[>\s]/g, '')
}

const mailbox = (m: { name?: string; address?: string } | undefined): Mailbox | undefined =>
  m?.address !== undefined ? { name: m.name ?? '', address: m.address, domain: domainOf(m.address) } : undefined

type PmAddress = { name: string; address?: string; group?: { name: string; address: string }[] }
const flatten = (list: readonly PmAddress[] | undefined): Mailbox[] =>
  (list ?? []).flatMap((a): PmAddress[] => (a.group ? a.group : [a])).flatMap((a) => mailbox(a) ?? [])

const ENTITIES: Readonly<Record<string, string>> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", yen: '¥' }

/** HTML character references decoded (named ones that matter for text and URLs, and numeric ones). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref.toLowerCase()] ?? whole
    const n = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1))
    return n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : '\ufffd'
  })
}

/** A rough text rendering of HTML, enough to match phrases in it. */
export function htmlToText(html: string): string {
  return decodeEntities(
    stripBlocks(html)
      .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
      .replace(/<[^<>]{0,2000}>/g, ' '),
  )
}

/** One URL: its scheme and ASCII host, or undefined when it does not parse. */
function parseUrl(url: string): { scheme: string; host: string } | undefined {
  const candidate = /^www\./i.test(url) ? `http://${url}` : url
  try {
    const u = new URL(candidate)
    return { scheme: u.protocol.slice(0, -1).toLowerCase(), host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase() }
  } catch {
    return undefined
  }
}

const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i
const TEXT_URL = /\b(?:https?:\/\/|www\.)[^\s<>"'`{}|\\^\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]{1,2000}/gi

/** The links of a message: HTML anchors with their visible text, then URLs written in its text (plain, or HTML rendered). */
export function extractLinks(html: string | undefined, text: string): Link[] {
  const links: Link[] = []
  const seen = new Set<string>()
  const add = (raw: string, source: Link['source'], shown?: string): void => {
    if (links.length >= MAX_LINKS) return
    const url = trimEnd(decodeEntities(raw.trim()), ').,;:!?]')
    const parsed = parseUrl(url)
    if (!parsed) return
    const key = `${source}\0${url}\0${shown ?? ''}`
    if (seen.has(key)) return
    seen.add(key)
    links.push({ url, ...parsed, source, ...(shown ? { text: shown } : {}) })
  }
  if (html) {
    for (const a of anchorsIn(html)) {
      const href = HREF.exec(a.attrs)
      const target = href?.[1] ?? href?.[2] ?? href?.[3]
      if (target) add(target, 'html', htmlToText(a.content).replace(/\s+/g, ' ').trim() || undefined)
    }
  }
  for (const m of text.matchAll(TEXT_URL)) add(m[0], 'text')
  return links
}

/** The end of the header block: where the body starts, after the first empty line. */
const headerEnd = (raw: Buffer): number => headerBlock(raw)?.body ?? raw.length

/**
 * Parses the message. Past `maxBytes`, or past MAX_PARTS parts, only the headers and
 * the beginning of the body are read (the facts say so). Never throws: a message the
 * parser refuses yields the facts that could be had from its headers.
 */
export async function readMessage(raw: Buffer, maxBytes: number): Promise<MessageFacts> {
  const bySize = raw.length > maxBytes
  let input = bySize ? raw.subarray(0, Math.max(maxBytes, headerEnd(raw))) : raw
  const cut = partsCut(input, MAX_PARTS)
  if (cut >= 0) input = input.subarray(0, Math.max(cut, headerEnd(input)))
  let email: Awaited<ReturnType<typeof PostalMime.parse>>
  try {
    email = await PostalMime.parse(input, { attachmentEncoding: 'arraybuffer', maxNestingDepth: 64 })
  } catch {
    // nesting too deep or headers too large: read the top-level headers alone
    email = await PostalMime.parse(raw.subarray(0, headerEnd(raw)), { maxNestingDepth: 1 }).catch(() => ({
      headers: [],
      headerLines: [],
      attachments: [],
    }))
  }
  const fromList = flatten(email.from ? [email.from as PmAddress] : [])
  const text = email.text?.trim() ? email.text : email.html ? htmlToText(email.html) : ''
  return {
    subject: email.subject ?? '',
    from: fromList[0],
    replyTo: flatten(email.replyTo as PmAddress[] | undefined),
    text,
    links: extractLinks(email.html, text),
    authResults: email.headers.filter((h) => h.key === 'authentication-results').map((h) => h.value),
    ...listDomainOf(email.headers),
    attachments: email.attachments
      .filter((a) => a.disposition === 'attachment' || a.filename || !a.mimeType.startsWith('image/'))
      .map((a) => ({
        filename: a.filename ?? '',
        mimeType: a.mimeType,
        inline: a.disposition === 'inline' || (a.related === true && a.mimeType.startsWith('image/')),
      })),
    truncated: bySize || cut >= 0,
    tooManyParts: cut >= 0,
  }
}

/** List-Id: `Name <list.example.org>` (RFC 2919): the list's domain is its id past the first label. */
function listDomainOf(headers: readonly { key: string; value: string }[]): { listDomain?: string } {
  const id = headers.find((h) => h.key === 'list-id')?.value
  const m = id ? /<([^<>@\s]{1,255})>\s*$/.exec(id) : null
  const domain = m?.[1]?.toLowerCase()
  return domain?.includes('.') ? { listDomain: domain } : {}
}
