/**
 * fast-check arbitraries for hostile mail: a MIME tree built from pieces that break
 * parsers (charset labels that lie or mean nothing, bad base64 and quoted-printable,
 * missing and wrong boundaries, encoded-words of every shape, NUL, bare CR, invalid
 * UTF-8, ISO-2022-JP escapes), then mutated byte by byte (cut, spliced, repeated).
 * Sizes stay small: the point is shape, and each run must be quick.
 */
import fc from 'fast-check'

import { encodeText, toIso2022jp } from './messages'

const CRLF = '\r\n'
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64')

/** Text a notice is made of, in Japanese and English, and what lures add. */
const PHRASES = [
  'ご注文ありがとうございます。',
  '注文番号: 250-1234567-1234567',
  'ご請求額: ￥3,980',
  'お支払い方法の確認',
  'カード番号を入力してください',
  'Your order has shipped',
  'Order #123-4567890-1234567',
  'Verify your account',
  'https://amazon.co.jp/gp/css',
  'http://amaz0n-secure.example/login',
  'Amazon.co.jp',
  '楽天カード',
  '三井住友カード',
  '【重要】',
  '\u200bAm\u200dazon',
]

const CHARSETS = ['UTF-8', 'utf8', 'Shift_JIS', 'EUC-JP', 'ISO-2022-JP', 'x-klingon', '', 'UTF-16', 'UTF-7', 'us-ascii', 'latin1', '"utf-8', 'windows-31j']
const ENCODINGS = ['7bit', '8bit', 'base64', 'quoted-printable', 'binary', 'x-uuencode', '', 'BASE64 ']

/** Bytes of a text in an encoding, or something that only claims to be one. */
const textBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(fc.constantFrom(...PHRASES), fc.constantFrom('UTF-8', 'Shift_JIS', 'EUC-JP', 'ISO-2022-JP') as fc.Arbitrary<'UTF-8' | 'Shift_JIS' | 'EUC-JP' | 'ISO-2022-JP'>).map(([p, cs]) => {
    try {
      return encodeText(p, cs)
    } catch {
      return Buffer.from(p)
    }
  }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.constantFrom(
    Buffer.from([0x1b, 0x24, 0x42, 0x30, 0x21]), // ESC $ B and half a character
    Buffer.from([0x1b, 0x28]), // an escape cut short
    Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff]), // invalid UTF-8
    Buffer.from([0x00, 0x00, 0x0d]), // NUL and a bare CR
    Buffer.from('=?UTF-8?B?' + b64('【Amazon.co.jp】') + '?='),
    toIso2022jp('ご注文'),
  ),
)

/** A header value: plain, encoded-words (good, bad, nested, overlong), raw 8-bit, folded. */
const headerValue: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...PHRASES).map((p) => Buffer.from(p)),
      fc.constantFrom(...PHRASES).map((p) => Buffer.from(`=?UTF-8?B?${b64(p)}?=`)),
      fc.constantFrom(...PHRASES).map((p) => Buffer.from(`=?ISO-2022-JP?B?${b64(p.match(/^[\x00-\x7f]*$/) ? p : toIso2022jp('注文'))}?=`)),
      fc.constantFrom('=?UTF-8?Q?=E3=81=94=ZZ?=', '=?x-unknown?B?!!!?=', '=??=', '=?UTF-8?B?', '?=', '=?UTF-8?B?PT9VVEYtOD9CP1FRPT0/PQ==?=').map((s) => Buffer.from(s)),
      fc.constantFrom(CRLF + ' ', CRLF + '\t', '\r', '\n', '\0', ';', '(', ')', '"', '<', '>', '@', ',').map((s) => Buffer.from(s)),
      textBytes,
    ),
    { maxLength: 6 },
  )
  .map((parts) => Buffer.concat(parts))

const HEADER_NAMES = [
  'Subject',
  'From',
  'Reply-To',
  'To',
  'X-Shop-Notice',
  'x-shop-notice',
  'X-SHOP-NOTICE',
  'Authentication-Results',
  'Original-Authentication-Results',
  'DKIM-Signature',
  'List-Id',
  'Content-Type',
  'X-Anything',
]

const header: fc.Arbitrary<Buffer> = fc
  .tuple(fc.constantFrom(...HEADER_NAMES), headerValue)
  .map(([name, value]) => Buffer.concat([Buffer.from(`${name}: `), value, Buffer.from(CRLF)]))

/** A body part's content, encoded as its Content-Transfer-Encoding says, or not quite. */
const encodedContent: fc.Arbitrary<{ cte: string; bytes: Buffer }> = fc
  .tuple(fc.constantFrom(...ENCODINGS), fc.array(textBytes, { maxLength: 5 }), fc.boolean())
  .map(([cte, parts, spoil]) => {
    const raw = Buffer.concat(parts.flatMap((p) => [p, Buffer.from(CRLF)]))
    let bytes: Buffer
    if (/base64/i.test(cte)) bytes = Buffer.from(b64(raw).replace(/.{76}/g, `$&${CRLF}`) + (spoil ? '!!*=' : '') + CRLF)
    else if (/quoted/i.test(cte)) bytes = Buffer.from([...raw].map((c) => (c > 126 || c === 61 ? `=${c.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(c))).join('') + (spoil ? '=Z=' : ''), 'latin1')
    else bytes = raw
    return { cte, bytes }
  })

interface Part {
  readonly bytes: Buffer
}

const BOUNDARIES = ['b1', 'b2', '', '=_x', '"quoted"', 'a'.repeat(80), '--']

/** A MIME entity: a leaf, or a multipart whose boundary may be missing, wrong or never closed. */
const entity: fc.Memo<Part> = fc.memo((depth) => {
  const leaf = fc
    .tuple(fc.constantFrom('text/plain', 'text/html', 'application/pdf', 'application/zip', 'image/png', 'message/rfc822', 'x/y'), fc.constantFrom(...CHARSETS), encodedContent, fc.option(fc.constantFrom('attachment', 'inline', 'attachment; filename="a\r\nX-Shop-Notice: verified.zip"', `attachment; filename="=?UTF-8?B?${b64('請求書.pdf')}?="`)))
    .map(([type, charset, content, disposition]) => ({
      bytes: Buffer.concat([
        Buffer.from(`Content-Type: ${type}${charset ? `; charset=${charset}` : ''}${CRLF}`),
        Buffer.from(content.cte ? `Content-Transfer-Encoding: ${content.cte}${CRLF}` : ''),
        Buffer.from(disposition ? `Content-Disposition: ${disposition}${CRLF}` : ''),
        Buffer.from(CRLF),
        content.bytes,
      ]),
    }))
  if (depth <= 1) return leaf
  const multi = fc
    .tuple(fc.constantFrom(...BOUNDARIES), fc.constantFrom('declared', 'missing', 'wrong', 'unclosed'), fc.array(entity(depth - 1), { minLength: 0, maxLength: 3 }))
    .map(([b, how, children]) => {
      const name = b.replace(/"/g, '')
      const declared = how === 'missing' ? '' : `; boundary=${b.startsWith('"') ? b : `"${b}"`}`
      const used = how === 'wrong' ? `${name}-other` : name
      const chunks: Buffer[] = [Buffer.from(`Content-Type: multipart/mixed${declared}${CRLF}${CRLF}`)]
      for (const c of children) chunks.push(Buffer.from(`--${used}${CRLF}`), c.bytes, Buffer.from(CRLF))
      if (how !== 'unclosed') chunks.push(Buffer.from(`--${used}--${CRLF}`))
      return { bytes: Buffer.concat(chunks) }
    })
  return fc.oneof({ depthSize: 'small' }, leaf, multi)
})

/** A whole message: hostile headers, then the top entity (its own headers run into them). */
export const rawMessage: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(header, { maxLength: 8 }),
    fc.constantFrom('From: "Amazon.co.jp" <auto-confirm@amazon.co.jp>', 'From: TestShop <order@testshop.jp>', 'From: a@b.example', 'From: <>', ''),
    entity(4),
  )
  .map(([headers, from, top]) => Buffer.concat([...headers, Buffer.from(from ? `${from}${CRLF}` : ''), Buffer.from('MIME-Version: 1.0\r\n'), top.bytes]))

type Mutation = (b: Buffer) => Buffer

/** Byte-level mutations: what a broken relay, a truncated upload or a fuzzer does to mail. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at): Mutation => (b) => b.subarray(0, b.length ? at % b.length : 0)),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, bytes]): Mutation => (b) => {
    const i = b.length ? at % b.length : 0
    return Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)])
  }),
  fc.tuple(fc.nat(), fc.nat({ max: 64 })).map(([at, len]): Mutation => (b) => {
    const i = b.length ? at % b.length : 0
    return Buffer.concat([b.subarray(0, i), b.subarray(i + len)])
  }),
  fc.tuple(fc.nat(), fc.nat({ max: 64 }), fc.integer({ min: 2, max: 20 })).map(([at, len, times]): Mutation => (b) => {
    const i = b.length ? at % b.length : 0
    const slice = b.subarray(i, i + len)
    return Buffer.concat([b.subarray(0, i), ...Array.from({ length: times }, () => slice), b.subarray(i)])
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]): Mutation => (b) => {
    if (!b.length) return b
    const c = Buffer.from(b)
    c[at % c.length] = byte
    return c
  }),
)

/** A generated message, mutated up to three times. */
export const hostileMessage: fc.Arbitrary<Buffer> = fc
  .tuple(rawMessage, fc.array(mutation, { maxLength: 3 }))
  .map(([raw, mutations]) => mutations.reduce((b, m) => m(b), raw))
