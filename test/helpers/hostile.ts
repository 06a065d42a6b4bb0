/**
 * Hostile messages, made here byte by byte: every malformation issue #4 names, and
 * every message that ever broke the plugin, under a name. Each one must scan to a
 * verdict without an exception, and pass through Haraka with its body unchanged.
 *
 * Nothing is copied from ../shared/corpus. Sizes are bounded so that the whole
 * table scans in seconds.
 */
import { encodeText, toIso2022jp } from './messages'

export interface Hostile {
  /** a stable name: test titles and regression fixtures refer to it */
  readonly name: string
  /** what it attacks */
  readonly what: string
  readonly raw: Buffer
}

const CRLF = '\r\n'
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8')
const cat = (...parts: (string | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? utf8(p) : p)))

/** Ordinary top headers of a brand notice, so that the detectors run in full on what follows. */
const TOP = [
  'From: "Amazon.co.jp" <auto-confirm@amazon.co.jp>',
  'To: user@example.net',
  'Date: Sat, 21 Nov 2026 10:00:00 +0900',
  'MIME-Version: 1.0',
]
const top = (id: string, extra: readonly string[] = []): string => [...TOP, `Message-ID: <hostile.${id}@example.org>`, ...extra].join(CRLF) + CRLF

const ORDER_TEXT = 'ご注文ありがとうございます。\r\n注文番号: 250-1234567-1234567\r\nご請求額: ￥3,980\r\n'

/** n multiparts nested inside each other, each with its own boundary, a text part at the bottom. */
function nestedMultipart(depth: number): Buffer {
  const open: string[] = []
  const close: string[] = []
  for (let i = 0; i < depth; i++) {
    open.push(`Content-Type: multipart/mixed; boundary="b${i}"${CRLF}${CRLF}--b${i}${CRLF}`)
    close.unshift(`${CRLF}--b${i}--${CRLF}`)
  }
  return cat(
    top('deep', ['Subject: =?UTF-8?B?' + b64('【Amazon.co.jp】ご注文の確認') + '?=']),
    open.join(''),
    `Content-Type: text/plain; charset=UTF-8${CRLF}${CRLF}`,
    ORDER_TEXT,
    close.join(''),
  )
}

/** Escape sequences of ISO-2022-JP (and of its relatives), mixed and cut short. */
function escapeSoup(seed: number, n: number): Buffer {
  const escapes = [
    [0x1b, 0x24, 0x42], // ESC $ B  JIS X 0208-1983
    [0x1b, 0x24, 0x40], // ESC $ @  JIS C 6226-1978
    [0x1b, 0x28, 0x42], // ESC ( B  ASCII
    [0x1b, 0x28, 0x4a], // ESC ( J  JIS X 0201 Roman
    [0x1b, 0x28, 0x49], // ESC ( I  half-width katakana (not in RFC 1468)
    [0x1b, 0x24, 0x28, 0x44], // ESC $ ( D  JIS X 0212
    [0x1b, 0x24], // cut short
    [0x1b], // a lone ESC
    [0x0e], // SO
    [0x0f], // SI
  ]
  let x = seed
  const rnd = (m: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    return x % m
  }
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const e = escapes[rnd(escapes.length)]!
    out.push(...e)
    const len = rnd(6)
    for (let j = 0; j < len; j++) out.push(0x21 + rnd(0x5e))
    if (rnd(10) === 0) out.push(0x0d, 0x0a)
  }
  return Buffer.from(out)
}

/** Shift_JIS text labelled as something else. */
const sjis = (s: string): Buffer => encodeText(s, 'Shift_JIS')

export function hostileMessages(): Hostile[] {
  const list: Hostile[] = []
  const add = (name: string, what: string, raw: Buffer): void => {
    list.push({ name, what, raw })
  }
  const subject = 'Subject: =?UTF-8?B?' + b64('【Amazon.co.jp】ご注文の確認') + '?='

  add('empty', 'a message of zero bytes', Buffer.alloc(0))
  add('crlf-only', 'one empty line: no header, no body', utf8(CRLF))
  add('headers-only', 'headers without the empty line or a body', utf8(top('ho', [subject]).slice(0, -2)))
  add('headers-only-blank', 'headers and the empty line, no body', utf8(top('hob', [subject]) + CRLF))
  add('body-only', 'text without any header', utf8(`ご注文ありがとうございます${CRLF}注文番号: 123${CRLF}`))
  add('not-a-header', 'a first line that is not a header field', utf8(`this is not a header${CRLF}From: a@b.example${CRLF}${CRLF}body${CRLF}`))
  add('lf-only', 'bare LF line endings everywhere', utf8((top('lf', [subject, 'Content-Type: text/plain; charset=UTF-8']) + CRLF + ORDER_TEXT).replace(/\r\n/g, '\n')))
  add('bare-cr', 'bare CR inside headers and body', utf8(top('cr', ['Subject: a\rb\rc', 'Content-Type: text/plain']) + CRLF + 'line\rwith\rcr' + CRLF))

  add(
    'multipart-no-boundary',
    'multipart/mixed without a boundary parameter',
    utf8(top('nb', [subject, 'Content-Type: multipart/mixed']) + CRLF + `--x${CRLF}Content-Type: text/plain${CRLF}${CRLF}${ORDER_TEXT}--x--${CRLF}`),
  )
  add(
    'multipart-wrong-boundary',
    'the declared boundary never appears; another one does',
    utf8(top('wb', [subject, 'Content-Type: multipart/alternative; boundary="declared"']) + CRLF + `--other${CRLF}Content-Type: text/plain${CRLF}${CRLF}${ORDER_TEXT}--other--${CRLF}`),
  )
  add(
    'multipart-unterminated',
    'parts opened and never closed, the last one cut mid-line',
    utf8(top('ut', [subject, 'Content-Type: multipart/mixed; boundary="u"']) + CRLF + `--u${CRLF}Content-Type: text/plain; charset=UTF-8${CRLF}${CRLF}${ORDER_TEXT}--u${CRLF}Content-Type: text/html${CRLF}${CRLF}<a href="http://x.example/`),
  )
  add(
    'multipart-empty-boundary',
    'boundary="" and a boundary of 200 characters',
    utf8(
      top('eb', [subject, 'Content-Type: multipart/mixed; boundary=""']) +
        CRLF +
        `--${CRLF}Content-Type: multipart/related; boundary="${'z'.repeat(200)}"${CRLF}${CRLF}--${'z'.repeat(200)}${CRLF}${CRLF}${ORDER_TEXT}--${'z'.repeat(200)}--${CRLF}--${CRLF}`,
    ),
  )
  add('multipart-1000-deep', '1,000 multiparts nested inside each other', nestedMultipart(1000))
  add(
    'multipart-10000-parts',
    '10,000 empty sibling parts',
    utf8(top('wide', [subject, 'Content-Type: multipart/mixed; boundary="w"']) + CRLF + `--w${CRLF}${CRLF}x${CRLF}`.repeat(10_000) + `--w--${CRLF}`),
  )

  add(
    'base64-bad',
    'base64 with invalid characters, wrong padding and a cut-off quantum',
    utf8(top('b64', [subject, 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64']) + CRLF + `${b64(ORDER_TEXT).slice(0, 30)}!!**==\x7f==${CRLF}QUJD=RE${CRLF}QQ${CRLF}====${CRLF}`),
  )
  add(
    'qp-bad',
    'quoted-printable with bad escapes, a soft break at the end and = at end of data',
    utf8(top('qp', [subject, 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: quoted-printable']) + CRLF + `=E3=81=94=ZZ=4=\r\n=E3=81${CRLF}=${CRLF}=${'='.repeat(300)}${CRLF}=`),
  )
  add(
    'transfer-encoding-unknown',
    'Content-Transfer-Encoding: x-uuencode and a garbage value',
    utf8(top('cte', [subject, 'Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode; base64; "quoted"']) + CRLF + `begin 644 x${CRLF}M86)C${CRLF}end${CRLF}`),
  )

  add(
    'charset-unknown',
    'charset labels no decoder knows',
    cat(top('cu', ['Subject: =?x-klingon?B?' + b64('qaStaH nuq') + '?= =??B??=', 'Content-Type: text/plain; charset="x-klingon"']), CRLF, 'nuqneH', CRLF),
  )
  add(
    'charset-lying-utf8',
    'labelled UTF-8, written in Shift_JIS',
    cat(top('lu', ['Subject: =?UTF-8?B?' + sjis('【Amazon.co.jp】ご注文の確認').toString('base64') + '?=', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit']), CRLF, sjis(ORDER_TEXT)),
  )
  add(
    'charset-lying-iso2022jp',
    'labelled ISO-2022-JP, written in UTF-8 (8-bit bytes in a 7-bit charset)',
    cat(top('lj', ['Subject: =?ISO-2022-JP?B?' + b64('【Amazon.co.jp】ご注文の確認') + '?=', 'Content-Type: text/plain; charset=ISO-2022-JP']), CRLF, ORDER_TEXT),
  )
  add(
    'charset-utf16-label',
    'labelled UTF-16 (odd byte count) and UTF-7',
    cat(top('u16', ['Subject: =?UTF-7?Q?+ZeVnLIqe-?=', 'Content-Type: text/plain; charset=UTF-16']), CRLF, latin1('abc\xff')),
  )
  add(
    'utf8-invalid',
    'invalid UTF-8: lone continuation bytes, overlongs, surrogates, 0xFF',
    cat(
      top('iu', ['Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit']),
      latin1('Subject: \x80\xbf\xc0\xaf\xed\xa0\x80\xff\xfe order\r\n'),
      CRLF,
      latin1('\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xf8\xa1\xa1\xa1\xa1\xfc\xa1\xa1\xa1\xa1\xa1\r\n'),
      ORDER_TEXT,
    ),
  )
  add(
    'iso2022jp-escape-soup',
    'ISO-2022-JP escape sequences mixed, unterminated and cut short, in the subject and the body',
    cat(
      top('es', ['Content-Type: text/plain; charset=ISO-2022-JP']),
      'Subject: =?ISO-2022-JP?B?',
      escapeSoup(7, 40).toString('base64'),
      '?=',
      CRLF,
      CRLF,
      escapeSoup(11, 400),
      CRLF,
      toIso2022jp('ご注文ありがとうございます').subarray(0, 9),
      CRLF,
    ),
  )
  add(
    'raw-8bit-headers-sjis',
    'raw Shift_JIS bytes in header fields (no encoded-words)',
    cat(top('r8', ['Content-Type: text/plain; charset=Shift_JIS']), 'Subject: ', sjis('【Amazon.co.jp】ご注文の確認'), CRLF, 'Reply-To: ', sjis('アマゾン'), ' <a@b.example>', CRLF, CRLF, sjis(ORDER_TEXT)),
  )

  add(
    'nul-bytes',
    'NUL bytes in header names, header values and the body',
    cat(top('nul', ['Content-Type: text/plain; charset=UTF-8']), latin1('Subject: \x00【Amazon\x00】\x00\r\nX-Nu\x00ll: \x00\r\n\r\n'), latin1('\x00\x00\x00'), ORDER_TEXT, latin1('\x00')),
  )
  add(
    'control-chars',
    'every C0 control character and DEL in the subject and the display name',
    cat(
      top('cc', ['Content-Type: text/plain']).replace('From: "Amazon.co.jp"', `From: "Amazon${Array.from({ length: 31 }, (_, i) => (i === 10 || i === 13 ? '' : String.fromCharCode(i + 1))).join('')}"`),
      `Subject: ${Array.from({ length: 32 }, (_, i) => (i === 10 || i === 13 ? '' : String.fromCharCode(i))).join('')}\x7f`,
      CRLF,
      CRLF,
      ORDER_TEXT,
    ),
  )

  add('header-line-100k', 'one Subject line of 100 KB, unfolded', utf8(top('hl', ['Content-Type: text/plain']) + `Subject: ${'注文'.repeat(17_000)}${CRLF}${CRLF}${ORDER_TEXT}`))
  add('header-folded-100k', 'one X- header folded over 100 KB', utf8(top('hf', [subject, `X-Long: ${`${'a'.repeat(70)}${CRLF} `.repeat(1400)}end`]) + CRLF + ORDER_TEXT))
  add('headers-10000', '10,000 header fields', utf8(top('h10k', [subject, ...Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v${i}`)]) + CRLF + ORDER_TEXT))
  add('received-5000', '5,000 Received fields (a mail loop)', utf8(Array.from({ length: 5000 }, (_, i) => `Received: from h${i}.example by h${i + 1}.example; Sat, 21 Nov 2026 10:00:00 +0900`).join(CRLF) + CRLF + top('rcv', [subject]) + CRLF + ORDER_TEXT))
  add('header-name-only', 'header names without a colon, an empty name, a colon alone', utf8(top('hn', [subject, 'NoColonHere', ': empty name', ':', 'X-Empty:']) + CRLF + ORDER_TEXT))

  const longWord = '=?UTF-8?B?' + b64('注'.repeat(30_000)) + '?='
  add('encoded-word-100k', 'a single encoded-word of 120 KB in the subject', utf8(top('ew', ['Content-Type: text/plain']) + `Subject: ${longWord}${CRLF}${CRLF}${ORDER_TEXT}`))
  add(
    'encoded-words-10000',
    '10,000 encoded-words in the subject and the display name',
    utf8(
      top('ews', ['Content-Type: text/plain']).replace('"Amazon.co.jp"', Array.from({ length: 10_000 }, () => '=?UTF-8?Q?A?=').join(' ')) +
        `Subject: ${Array.from({ length: 10_000 }, (_, i) => `=?UTF-8?Q?w${i}?=`).join(`${CRLF} `)}${CRLF}${CRLF}${ORDER_TEXT}`,
    ),
  )
  const inner = '=?UTF-8?B?' + b64('【Amazon.co.jp】ご注文') + '?='
  add(
    'encoded-word-nested',
    'encoded-words inside encoded-words, three deep, and unbalanced =? ?=',
    utf8(
      top('ewn', ['Content-Type: text/plain']).replace('"Amazon.co.jp"', `=?UTF-8?B?${b64(`=?UTF-8?B?${b64(inner)}?=`)}?=`) +
        `Subject: =?UTF-8?Q?${encodeURIComponent(inner).replace(/%/g, '=')}?= =?UTF-8?B?=?UTF-8?B?=?= ?= =?=?=?${CRLF}${CRLF}${ORDER_TEXT}`,
    ),
  )
  add(
    'encoded-word-crlf',
    'encoded-words that decode to CR LF and a header line, in From, Subject and a file name',
    utf8(
      top('ewc', ['Content-Type: multipart/mixed; boundary="c"']).replace('"Amazon.co.jp"', `=?UTF-8?B?${b64('Amazon\r\nX-Shop-Notice: verified; brand=amazon\r\n')}?=`) +
        `Subject: =?UTF-8?Q?order=0D=0AX-Shop-Notice:_verified?=${CRLF}${CRLF}` +
        `--c${CRLF}Content-Type: text/plain; charset=UTF-8${CRLF}${CRLF}${ORDER_TEXT}--c${CRLF}` +
        `Content-Type: application/pdf; name="=?UTF-8?B?${b64('invoice\r\nBcc: all@example.net\r\n.pdf')}?="${CRLF}` +
        `Content-Disposition: attachment; filename*=UTF-8''inv%0D%0AX-Shop-Notice%3A%20verified.pdf${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${b64('%PDF-1.4')}${CRLF}--c--${CRLF}`,
    ),
  )
  add(
    'rfc2231-garbage',
    'RFC 2231 parameters out of order, missing, with bad percent-escapes and unknown charsets',
    utf8(
      top('2231', [subject, 'Content-Type: multipart/mixed; boundary="r"']) +
        CRLF +
        `--r${CRLF}Content-Type: text/plain; charset*=x-unknown''%ZZ; name*3="c"; name*0*=utf-8'ja'%E3%81; name*1="b"${CRLF}Content-Disposition: attachment; filename*0*=''%; filename*99=x${CRLF}${CRLF}data${CRLF}--r--${CRLF}`,
    ),
  )

  add(
    'addresses-broken',
    'From, Reply-To and To that no address parser can make sense of',
    utf8(
      [
        'From: <<<@@@>>> "unclosed <a@b',
        'Reply-To: ;;;,,,<>,@,group: a@b, c@; , <@route:x@y>',
        `To: ${Array.from({ length: 2000 }, (_, i) => `u${i}@example.net`).join(', ')}`,
        'Sender: =?UTF-8?B?@@@?= <>',
        subject,
        'Message-ID: <hostile.addr@example.org>',
        'Content-Type: text/plain; charset=UTF-8',
      ].join(CRLF) + CRLF + CRLF + ORDER_TEXT,
    ),
  )
  add(
    'from-idn-garbage',
    'From domains that are not domains: IDN with invalid punycode, 300 labels, trailing dots, an IP literal',
    utf8(
      [
        `From: "Amazon" <a@xn--zz-zzzzzzzzzzzzzzz.xn--.${'a.'.repeat(300)}example..>`,
        'Reply-To: <b@[127.0.0.1]>, <c@xn--80ak6aa92e.com>',
        subject,
        'Message-ID: <hostile.idn@example.org>',
        'Content-Type: text/plain; charset=UTF-8',
      ].join(CRLF) + CRLF + CRLF + ORDER_TEXT,
    ),
  )

  const anchors = Array.from({ length: 5000 }, (_, i) => `<a href="https://h${i}.example/${'x'.repeat(i % 50)}">https://amazon.co.jp/${i}</a>`).join('')
  add('html-5000-links', '5,000 anchors whose text names another host', utf8(top('l5k', [subject, 'Content-Type: text/html; charset=UTF-8']) + CRLF + `<html><body>${anchors}</body></html>${CRLF}`))
  add(
    'html-unclosed',
    'HTML of unclosed tags, attributes without end, a 100 KB href, nested anchors',
    utf8(
      top('hu', [subject, 'Content-Type: text/html; charset=UTF-8']) +
        CRLF +
        `${'<a href="'.repeat(2000)}<a href='${'h'.repeat(100_000)}'>x${'<a '.repeat(3000)}<script><style><head>${'&#x'.repeat(3000)}&#99999999999;&#0;&#xD800;&${'a'.repeat(50)};${CRLF}`,
    ),
  )
  add(
    'text-url-pathological',
    'plain text of URL fragments: 20,000 "http://" in a row and a 100 KB URL',
    utf8(top('tu', [subject, 'Content-Type: text/plain; charset=UTF-8']) + CRLF + `${'http://'.repeat(20_000)}${CRLF}https://${'a.'.repeat(50_000)}example${CRLF}www.${'-'.repeat(3000)}${CRLF}`),
  )
  add(
    'text-order-labels',
    'order labels and amounts repeated without end, the way a ReDoS probe writes them',
    utf8(
      top('ol', ['Subject: ご注文の確認 注文番号', 'Content-Type: text/plain; charset=UTF-8']) +
        CRLF +
        `${'注文番号 '.repeat(5000)}${CRLF}${'ご注文番号：#'.repeat(3000)}${CRLF}${'¥1,'.repeat(10_000)}${CRLF}${'#1-'.repeat(10_000)}${CRLF}${'order no. '.repeat(5000)}!${CRLF}`,
    ),
  )
  add(
    'text-invisibles',
    '10,000 zero-width joiners, combining marks and emoji in the subject and text',
    utf8(top('inv', ['Content-Type: text/plain; charset=UTF-8']) + `Subject: ${'A\u200d\u0301'.repeat(3000)}👨‍👩‍👧${CRLF}${CRLF}${'\u200b\ufe0f\u0300'.repeat(10_000)}${ORDER_TEXT}`),
  )
  add(
    'attachments-hostile',
    'attachment names of 10 KB, with path separators, RTL overrides, NUL and only dots',
    utf8(
      top('att', [subject, 'Content-Type: multipart/mixed; boundary="a"']) +
        CRLF +
        `--a${CRLF}Content-Type: text/plain; charset=UTF-8${CRLF}${CRLF}${ORDER_TEXT}` +
        [`${'x'.repeat(10_000)}.exe`, '../../etc/passwd', 'invoice\u202efdp.exe', 'a\u0000b.zip', '....', '']
          .map((name) => `--a${CRLF}Content-Type: application/octet-stream; name="${name}"${CRLF}Content-Disposition: attachment; filename="${name}"${CRLF}${CRLF}AAAA${CRLF}`)
          .join('') +
        `--a--${CRLF}`,
    ),
  )
  add(
    'dots-and-terminators',
    'lines of a lone dot, dot-CRLF-dot, and a body ending without CRLF',
    utf8(top('dot', [subject, 'Content-Type: text/plain']) + CRLF + `.${CRLF}..${CRLF}.\r\n.\r\n${ORDER_TEXT}.`),
  )
  add(
    'auth-results-hostile',
    'Authentication-Results that are empty, a lone semicolon, unbalanced comments, 2,000 of them',
    utf8(
      [
        'Authentication-Results:',
        'Authentication-Results: ;',
        'Authentication-Results: ((((((((( ; dmarc=pass',
        'Authentication-Results: "unclosed; dkim=pass',
        ...Array.from({ length: 2000 }, (_, i) => `Authentication-Results: mx${i}.example; spf=pass smtp.mailfrom=a@amazon.co.jp`),
        ...TOP,
        subject,
        'Message-ID: <hostile.ar@example.org>',
        'Content-Type: text/plain; charset=UTF-8',
      ].join(CRLF) + CRLF + CRLF + ORDER_TEXT,
    ),
  )
  add(
    'dkim-signature-hostile',
    'DKIM-Signature fields that are empty, 50 KB, and with every tag repeated',
    utf8(
      [
        'DKIM-Signature:',
        `DKIM-Signature: v=1; a=rsa-sha256; d=amazon.co.jp; s=${'s'.repeat(50_000)}; h=from; bh=; b=`,
        'DKIM-Signature: v=1; v=1; d=a; d=b; s=x; s=y; h=from:from:from; l=-1; t=x; x=1; bh=!!; b=!!',
        ...TOP,
        subject,
        'Message-ID: <hostile.dkim@example.org>',
        'Content-Type: text/plain; charset=UTF-8',
      ].join(CRLF) + CRLF + CRLF + ORDER_TEXT,
    ),
  )
  return list
}
