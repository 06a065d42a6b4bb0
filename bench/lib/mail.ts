/**
 * The benchmark's generated mail: order confirmations as shops send them
 * (multipart/alternative, a base64 UTF-8 text part and a quoted-printable HTML
 * part with a table of items and links), Japanese or English, grown to a target
 * size, and DKIM-signed (relaxed/relaxed, rsa-sha256) by the sending domain with
 * a key made at start.
 */
import crypto from 'node:crypto'
import { dkimSign } from 'mailauth'

export const SELECTOR = 'bench'

export interface BenchKey {
  readonly privateKey: string
  /** the DKIM key record: `v=DKIM1; k=rsa; p=…` */
  readonly dkimTxt: string
}

/** A fresh RSA-2048 key, as a sending domain would publish it. */
export function makeKey(): BenchKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    dkimTxt: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  }
}

export interface NoticeSpec {
  /** the From domain, which also signs */
  readonly domain: string
  /** the shop's name as written in the message */
  readonly shop: string
  /** where the links go (default: the From domain) */
  readonly linkDomain?: string
  readonly lang: 'ja' | 'en'
  /** the message grows by rows of items until it is at least this long */
  readonly bytes: number
  /** makes Message-ID and order number unique */
  readonly seq: number
}

const ITEMS_JA = ['オーガニック緑茶 ティーバッグ 50包', 'ステンレス製 保温マグ 350ml', '国産ひのき まな板 (中)', '綿100% バスタオル 2枚組']
const ITEMS_EN = ['Organic green tea, 50 bags', 'Stainless steel travel mug, 350 ml', 'Cypress cutting board (medium)', 'Cotton bath towels, set of 2']

const b64Lines = (s: string): string =>
  Buffer.from(s, 'utf8')
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n')
    .replace(/\r\n$/, '')

/** Quoted-printable (RFC 2045) of UTF-8 text with CRLF line breaks. */
export function quotedPrintable(s: string): string {
  const out: string[] = []
  for (const line of s.split(/\r?\n/)) {
    let enc = ''
    for (const byte of Buffer.from(line, 'utf8')) {
      enc += (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32 ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
    }
    if (enc.endsWith(' ')) enc = `${enc.slice(0, -1)}=20`
    // soft line breaks: at most 76 characters, never inside an =XX
    while (enc.length > 75) {
      let cut = 75
      const eq = enc.lastIndexOf('=', cut - 1)
      if (eq > cut - 3) cut = eq
      out.push(`${enc.slice(0, cut)}=`)
      enc = enc.slice(cut)
    }
    out.push(enc)
  }
  return out.join('\r\n')
}

const encodedWord = (s: string): string => (/^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`)

/** An unsigned order confirmation of at least `spec.bytes` bytes, CRLF line endings. */
export function notice(spec: NoticeSpec): Buffer {
  const ja = spec.lang === 'ja'
  const links = spec.linkDomain ?? spec.domain
  const order = `${String(100 + (spec.seq % 900))}-${String(1_000_000 + spec.seq).padStart(7, '0')}-${String(spec.seq % 10_000_000).padStart(7, '0')}`
  const boundary = `----=_bench_${spec.seq}_${crypto.createHash('sha1').update(String(spec.seq)).digest('hex').slice(0, 12)}`
  const subject = ja ? `【${spec.shop}】ご注文の確認 (注文番号 ${order})` : `${spec.shop}: your order ${order} is confirmed`
  const head = [
    `From: ${encodedWord(spec.shop)} <order-confirm@${spec.domain}>`,
    'To: customer@recipient.example',
    `Subject: ${encodedWord(subject)}`,
    `Date: ${new Date(Date.UTC(2026, 0, 1) + spec.seq * 60_000).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <bench.${spec.seq}.${boundary.slice(-12)}@${spec.domain}>`,
    'MIME-Version: 1.0',
    `List-Unsubscribe: <https://${links}/account/mail-settings?u=${spec.seq}>`,
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ]

  const build = (rows: number): Buffer => {
    const items = ja ? ITEMS_JA : ITEMS_EN
    const lines = Array.from({ length: rows }, (_, i) => {
      const name = items[i % items.length]!
      const price = 480 + ((i * 733 + spec.seq) % 5000)
      return { name, price, url: `https://${links}/dp/B0${String(10_000_000 + i * 7919 + spec.seq).slice(0, 8)}?ref=oc_${i}` }
    })
    const total = lines.reduce((s, l) => s + l.price, 0)
    const text = ja
      ? [
          'お客様',
          '',
          `${spec.shop}をご利用いただき、誠にありがとうございます。以下の内容でご注文を承りました。`,
          `ご注文番号: ${order}`,
          '',
          ...lines.map((l) => `・${l.name}  ${l.price.toLocaleString('ja-JP')}円\n  ${l.url}`),
          '',
          `ご請求金額: ${total.toLocaleString('ja-JP')}円（税込）`,
          `ご注文内容の確認・変更: https://${links}/your-orders/${order}`,
          '',
          'このメールは送信専用アドレスから送信されています。ご返信いただいてもお答えできません。',
        ].join('\n')
      : [
          'Hello,',
          '',
          `Thank you for shopping with ${spec.shop}. We have received your order.`,
          `Order number: ${order}`,
          '',
          ...lines.map((l) => `- ${l.name}  JPY ${l.price.toLocaleString('en-US')}\n  ${l.url}`),
          '',
          `Order total: JPY ${total.toLocaleString('en-US')}`,
          `View or change your order: https://${links}/your-orders/${order}`,
          '',
          'This message was sent from an address that cannot accept replies.',
        ].join('\n')
    const html = [
      '<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{padding:4px 8px;font-family:sans-serif;font-size:14px}</style></head>',
      '<body style="margin:0;padding:0;background:#f4f4f4">',
      `<table width="600" align="center" cellpadding="0" cellspacing="0" style="background:#ffffff"><tr><td><img src="https://${links}/img/logo.png" alt="${spec.shop}" width="120"></td></tr>`,
      `<tr><td>${ja ? `${spec.shop}をご利用いただき、誠にありがとうございます。` : `Thank you for shopping with ${spec.shop}.`}</td></tr>`,
      `<tr><td>${ja ? 'ご注文番号' : 'Order number'}: <a href="https://${links}/your-orders/${order}">${order}</a></td></tr>`,
      ...lines.map(
        (l) =>
          `<tr><td style="border-bottom:1px solid #e0e0e0"><a href="${l.url}" style="color:#0066c0;text-decoration:none">${l.name}</a></td><td align="right" style="border-bottom:1px solid #e0e0e0">${ja ? `${l.price.toLocaleString('ja-JP')}円` : `JPY ${l.price}`}</td></tr>`,
      ),
      `<tr><td><b>${ja ? 'ご請求金額' : 'Order total'}: ${total}</b></td></tr>`,
      `<tr><td style="font-size:12px;color:#666">${ja ? 'このメールは送信専用アドレスから送信されています。' : 'This message was sent from an address that cannot accept replies.'} <a href="https://${links}/help">${ja ? 'ヘルプ' : 'Help'}</a></td></tr>`,
      '</table></body></html>',
    ].join('\n')
    const body = [
      `--${boundary}`,
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64Lines(text.replace(/\n/g, '\r\n')),
      `--${boundary}`,
      'Content-Type: text/html; charset=UTF-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      quotedPrintable(html),
      `--${boundary}--`,
      '',
    ].join('\r\n')
    return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'utf8')
  }

  // each row adds a few hundred bytes: grow, then step back to the smallest size that reaches the target
  let rows = 1
  let msg = build(rows)
  while (msg.length < spec.bytes) {
    rows = Math.max(rows + 1, Math.floor((rows * spec.bytes) / msg.length))
    msg = build(rows)
  }
  while (rows > 1) {
    const smaller = build(rows - 1)
    if (smaller.length < spec.bytes) break
    rows--
    msg = smaller
  }
  return msg
}

/** The message with a DKIM-Signature of `domain` (selector `bench`) on top. */
export async function sign(raw: Buffer, domain: string, privateKey: string): Promise<Buffer> {
  const data = { signingDomain: domain, selector: SELECTOR, privateKey, algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed' }
  const res = await dkimSign(raw, { ...data, signatureData: [data] })
  if (!res.signatures) throw new Error(`dkimSign made no signature for ${domain}: ${JSON.stringify(res.errors)}`)
  return Buffer.concat([Buffer.from(res.signatures.replace(/\r?\n/g, '\r\n'), 'latin1'), raw])
}
