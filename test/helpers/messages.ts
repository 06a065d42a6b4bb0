/**
 * Test messages made here, in every charset Japanese mail uses. Nothing is copied
 * from ../shared/corpus (its licences forbid it).
 */
import iconv from 'iconv-lite'

export type Charset = 'UTF-8' | 'ISO-2022-JP' | 'Shift_JIS' | 'EUC-JP'

export interface MessageSpec {
  from?: string
  to?: string
  subject?: string
  body?: string
  html?: string
  charset?: Charset
  /** headers placed before the others, as written */
  extraHeaders?: readonly string[]
  date?: string
  messageId?: string
  /** files after the body, in a multipart/mixed */
  attachments?: readonly { filename: string; contentType: string; inline?: boolean; content: Buffer }[]
}

const b64 = (buf: Buffer): string => buf.toString('base64')

/**
 * ISO-2022-JP (RFC 1468) from EUC-JP: JIS X 0208 characters are the EUC-JP bytes
 * less 0x80, between ESC $ B and ESC ( B. (iconv-lite has no ISO-2022-JP encoder.)
 */
export function toIso2022jp(text: string): Buffer {
  const euc = iconv.encode(text, 'EUC-JP')
  const out: number[] = []
  let kanji = false
  for (let i = 0; i < euc.length; i++) {
    const b = euc[i]!
    if (b >= 0xa1 && b <= 0xfe) {
      if (!kanji) out.push(0x1b, 0x24, 0x42)
      kanji = true
      out.push(b & 0x7f, euc[++i]! & 0x7f)
    } else {
      if (b >= 0x80) throw new Error(`not representable in ISO-2022-JP: byte ${b.toString(16)} of ${JSON.stringify(text)}`)
      if (kanji) out.push(0x1b, 0x28, 0x42)
      kanji = false
      out.push(b)
    }
  }
  if (kanji) out.push(0x1b, 0x28, 0x42)
  return Buffer.from(out)
}

/** Text in a charset, as bytes. */
export const encodeText = (text: string, charset: Charset): Buffer =>
  charset === 'ISO-2022-JP' ? toIso2022jp(text) : iconv.encode(text, charset)

/** An RFC 2047 encoded-word for a header, in the message's charset. */
export function encodeWord(text: string, charset: Charset): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text
  return `=?${charset}?B?${b64(encodeText(text, charset))}?=`
}

/** Encodes a display name + address pair. */
export function mailbox(name: string, address: string, charset: Charset = 'UTF-8'): string {
  return name ? `${/^[\x20-\x7e]*$/.test(name) ? JSON.stringify(name) : encodeWord(name, charset)} <${address}>` : `<${address}>`
}

/** A whole message as bytes (CRLF). Bodies are base64 in the charset, or 7bit for ISO-2022-JP, as real mail does. */
export function makeMessage(spec: MessageSpec): Buffer {
  const charset = spec.charset ?? 'UTF-8'
  const headers = [
    ...(spec.extraHeaders ?? []),
    `From: ${spec.from ?? 'Sender <sender@example.org>'}`,
    `To: ${spec.to ?? 'user@example.net'}`,
    `Subject: ${encodeWord(spec.subject ?? 'Hello', charset)}`,
    `Date: ${spec.date ?? 'Sat, 21 Nov 2026 10:00:00 +0900'}`,
    `Message-ID: ${spec.messageId ?? '<test.1@example.org>'}`,
    'MIME-Version: 1.0',
  ]
  const part = (type: string, text: string): { head: string[]; body: Buffer } => {
    if (charset === 'ISO-2022-JP') {
      return { head: [`Content-Type: ${type}; charset=ISO-2022-JP`, 'Content-Transfer-Encoding: 7bit'], body: encodeText(text, charset) }
    }
    const encoded = b64(encodeText(text, charset)).replace(/.{76}/g, '$&\r\n')
    return { head: [`Content-Type: ${type}; charset=${charset}`, 'Content-Transfer-Encoding: base64'], body: Buffer.from(encoded) }
  }
  const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1')
  const bodyText = (spec.body ?? '').replace(/\r?\n/g, '\r\n')
  // the body as one entity: its header lines and its bytes
  let entity: { head: string[]; body: Buffer }
  if (spec.html === undefined) {
    entity = part('text/plain', bodyText)
  } else {
    const boundary = '=_boundary_42'
    const alt = [part('text/plain', bodyText), part('text/html', spec.html.replace(/\r?\n/g, '\r\n'))]
    const chunks: Buffer[] = []
    for (const p of alt) chunks.push(crlf([`--${boundary}`, ...p.head, '', ''].join('\r\n')), p.body, Buffer.from('\r\n'))
    chunks.push(Buffer.from(`--${boundary}--\r\n`))
    entity = { head: [`Content-Type: multipart/alternative; boundary="${boundary}"`], body: Buffer.concat(chunks) }
  }
  if (spec.attachments?.length) {
    const boundary = '=_mixed_43'
    const chunks: Buffer[] = [crlf([`--${boundary}`, ...entity.head, '', ''].join('\r\n')), entity.body, Buffer.from('\r\n')]
    for (const a of spec.attachments) {
      const name = encodeWord(a.filename, 'UTF-8')
      chunks.push(
        crlf(
          [
            `--${boundary}`,
            `Content-Type: ${a.contentType}; name="${name}"`,
            `Content-Disposition: ${a.inline ? 'inline' : 'attachment'}; filename="${name}"`,
            'Content-Transfer-Encoding: base64',
            '',
            b64(a.content),
            '',
          ].join('\r\n'),
        ),
      )
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`))
    entity = { head: [`Content-Type: multipart/mixed; boundary="${boundary}"`], body: Buffer.concat(chunks) }
  }
  return Buffer.concat([crlf([...headers, ...entity.head, '', ''].join('\r\n')), entity.body, Buffer.from('\r\n')])
}
