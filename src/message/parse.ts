/**
 * What a person reading the message would see: decoded headers, display names and
 * text, from any charset Japanese mail uses (postal-mime decodes with TextDecoder,
 * which in Node's full-ICU builds knows ISO-2022-JP, Shift_JIS and EUC-JP).
 */
import PostalMime from 'postal-mime'

import { decodeHTMLStrict } from 'entities'

import { headerBlock } from '../shared/domain.js'
import { trimEnd } from './find.js'
import { readHtml } from './html.js'

export interface Mailbox {
  readonly name: string
  readonly address: string
  /** lowercase domain of the address, '' when there is none */
  readonly domain: string
}

/** A link as the reader meets it: where it goes and, for an HTML anchor, the text shown. */
export interface Link {
  /** the URL as written (character references decoded) */
  readonly url: string
  /** lowercase scheme without the colon: http, https, mailto… */
  readonly scheme: string
  /** lowercase host in ASCII (IDNs as xn--), '' when the URL has none */
  readonly host: string
  /** the text an HTML link shows: an anchor's text (or, when it shows none, its images' alt), an area's alt */
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
  /** the addressees the headers name (To, then Cc), each as written: offline, the recipients a scan knows */
  readonly recipients: readonly Mailbox[]
  /** plain text, or HTML turned into text when there is no plain part */
  readonly text: string
  /** links of the HTML part (with their visible text) and URLs written in the text, at most `[limits] max_links` */
  readonly links: readonly Link[]
  /** raw values of every Authentication-Results header, topmost first */
  readonly authResults: readonly string[]
  readonly attachments: readonly Attachment[]
  /** the domain of the mailing list that carried the message (List-Id), if any */
  readonly listDomain?: string
  /** true when the message was larger than the scan limit, or had more MIME parts than `[limits] max_mime_parts`, and only its beginning was read */
  readonly truncated: boolean
  /** true when it was cut for its MIME parts */
  readonly tooManyParts: boolean
}

/** Links read per message by default (`[limits] max_links`): enough for any notice, bounded for a hostile one. */
export const MAX_LINKS = 200

/**
 * MIME parts read per message by default (`[limits] max_mime_parts`), as Haraka's own `[max] mime_parts` counts them: past it
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

/** One URL: its scheme and ASCII host, or undefined when it does not parse. */
function parseUrl(url: string): { scheme: string; host: string } | undefined {
  const candidate = /^www\./i.test(url) ? `http://${url}` : url
  // URL.parse: null for what does not parse (a relative URL, most often), without an exception to pay for
  const u = URL.parse(candidate)
  return u ? { scheme: u.protocol.slice(0, -1).toLowerCase(), host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase() } : undefined
}

const TEXT_URL = /\b(?:https?:\/\/|www\.)[^\s<>"'`{}|\\^\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]{1,2000}/gi

/** Collects links, at most `max`, each (URL, source, text) once; `add` says whether it takes more. */
function linkList(max = MAX_LINKS): { links: Link[]; add: (raw: string, source: Link['source'], shown?: string) => boolean } {
  const links: Link[] = []
  const seen = new Set<string>()
  const add = (raw: string, source: Link['source'], shown?: string): boolean => {
    if (links.length >= max) return false
    const url = trimEnd(raw.trim(), ').,;:!?]')
    const parsed = parseUrl(url)
    if (!parsed) return true
    const key = `${source}\0${url}\0${shown ?? ''}`
    if (seen.has(key)) return true
    seen.add(key)
    links.push({ url, ...parsed, source, ...(shown ? { text: shown } : {}) })
    return links.length < max
  }
  return { links, add }
}

/** Reads HTML once: its text (when `wantText`) and its links into `add`. */
function readHtmlLinks(html: string, add: ReturnType<typeof linkList>['add'], wantText: boolean): string {
  return readHtml(html, (l) => add(l.href, 'html', l.text), wantText)
}

/** URLs written in text; character references in them decoded, as a text rendering of HTML may have left them. */
function addTextUrls(text: string, add: ReturnType<typeof linkList>['add']): void {
  for (const m of text.matchAll(TEXT_URL)) if (!add(decodeHTMLStrict(m[0]), 'text')) return
}

/** The links of a message: those of its HTML with their visible text, then URLs written in its text (plain, or HTML rendered). */
export function extractLinks(html: string | undefined, text: string): Link[] {
  const { links, add } = linkList()
  if (html) readHtmlLinks(html, add, false)
  addTextUrls(text, add)
  return links
}

/** The end of the header block: where the body starts, after the first empty line. */
const headerEnd = (raw: Buffer): number => headerBlock(raw)?.body ?? raw.length

/**
 * Parses the message. Past `maxBytes`, or past `limits.maxParts` MIME parts, only the headers and
 * the beginning of the body are read (the facts say so). Never throws: a message the
 * parser refuses yields the facts that could be had from its headers.
 */
export async function readMessage(
  raw: Buffer,
  maxBytes: number,
  limits: { readonly maxLinks?: number; readonly maxParts?: number } = {},
): Promise<MessageFacts> {
  const bySize = raw.length > maxBytes
  let input = bySize ? raw.subarray(0, Math.max(maxBytes, headerEnd(raw))) : raw
  const cut = partsCut(input, limits.maxParts ?? MAX_PARTS)
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
  const plain = email.text?.trim() ? email.text : undefined
  const { links, add } = linkList(limits.maxLinks)
  const rendered = email.html ? readHtmlLinks(email.html, add, plain === undefined) : ''
  const text = plain ?? rendered
  addTextUrls(text, add)
  return {
    subject: email.subject ?? '',
    from: fromList[0],
    replyTo: flatten(email.replyTo as PmAddress[] | undefined),
    recipients: [...flatten(email.to as PmAddress[] | undefined), ...flatten(email.cc as PmAddress[] | undefined)],
    text,
    links,
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
