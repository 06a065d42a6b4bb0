/**
 * What a person reading the message would see: decoded headers, display names and
 * text, from any charset Japanese mail uses (postal-mime decodes with TextDecoder,
 * which in Node's full-ICU builds knows ISO-2022-JP, Shift_JIS and EUC-JP).
 */
import PostalMime from 'postal-mime'
import { getDomain } from 'tldts'

export interface Mailbox {
  readonly name: string
  readonly address: string
  /** lowercase domain of the address, '' when there is none */
  readonly domain: string
}

export interface MessageFacts {
  readonly subject: string
  readonly from?: Mailbox
  readonly replyTo: readonly Mailbox[]
  /** plain text, or HTML turned into text when there is no plain part */
  readonly text: string
  /** raw values of every Authentication-Results header, topmost first */
  readonly authResults: readonly string[]
  readonly attachments: readonly { readonly filename: string; readonly mimeType: string }[]
  /** true when the message was larger than the scan limit and only its beginning was read */
  readonly truncated: boolean
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

/** A rough text rendering of HTML, enough to match phrases in it. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]{0,2000}>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d{1,6});/g, (_, n: string) => String.fromCodePoint(Math.min(Number(n), 0x10ffff)))
}

/** The end of the header block: the first empty line. */
function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n')
  const lf = raw.indexOf('\n\n')
  if (crlf < 0) return lf < 0 ? raw.length : lf + 2
  if (lf < 0) return crlf + 4
  return Math.min(crlf + 4, lf + 2)
}

/**
 * Parses the message. Past `maxBytes` only the headers and the beginning of the
 * body are read (the facts say so). Never throws: a message the parser refuses
 * yields the facts that could be had from its headers.
 */
export async function readMessage(raw: Buffer, maxBytes: number): Promise<MessageFacts> {
  const truncated = raw.length > maxBytes
  const input = truncated ? raw.subarray(0, Math.max(maxBytes, headerEnd(raw))) : raw
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
    authResults: email.headers.filter((h) => h.key === 'authentication-results').map((h) => h.value),
    attachments: email.attachments
      .filter((a) => a.disposition === 'attachment' || (a.filename && !a.related))
      .map((a) => ({ filename: a.filename ?? '', mimeType: a.mimeType })),
    truncated,
  }
}

/** The registrable domain (public suffix + one label) of a host name. */
export const registrableDomain = (host: string): string | undefined =>
  host ? (getDomain(host.toLowerCase(), { allowPrivateDomains: true }) ?? undefined) : undefined
