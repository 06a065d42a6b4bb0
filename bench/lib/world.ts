/**
 * What the benchmark scans: the corpus as an SMTP server receives it (CRLF), the
 * generated notices, and the sender mix (hundreds of domains, a few of them
 * sending most of the mail, as a relay sees it).
 */
import fs from 'node:fs'
import path from 'node:path'

import type { SmtpContext } from '../../src/auth/authenticate.js'
import { configFor } from '../../src/config/sources.js'
import { type Settings, harakaSource, loadSettings } from '../../src/config/settings.js'
import { notice, sign } from './mail.js'
import { rng, zipf } from './stats.js'

/** The SMTP client every benchmark message comes from; every domain's SPF allows it. */
export const CLIENT_IP = '127.0.0.1'
export const CLIENT_HELO = 'client.bench.example'
export const AUTHSERV_ID = 'mx.bench.example'

export interface Sample {
  readonly name: string
  readonly raw: Buffer
  readonly ctx: SmtpContext
}

/** The package's own configuration, as `shop-notice scan` loads it without a folder. */
export function benchSettings(): Settings {
  return loadSettings(harakaSource(configFor(undefined))).value
}

/** Bare LF to CRLF: what an SMTP server hands a plugin. */
export const toCrlf = (raw: Buffer): Buffer => {
  if (!raw.includes(0x0a)) return raw
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
}

/** The Return-Path of a stored message, as its envelope sender (empty when there is none). */
export function returnPath(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1')
  const m = /^Return-Path:[ \t]*<?([^\s<>]*)>?/im.exec(head)
  return m?.[1] ?? ''
}

/**
 * The corpus (`index.tsv` and the group folders), read-only: every message as an SMTP
 * server would receive it (CRLF), with its Return-Path as the envelope sender.
 */
export function readCorpus(dir: string): Sample[] {
  const index = path.join(dir, 'index.tsv')
  if (!fs.existsSync(index)) throw new Error(`no corpus at ${dir} (expected index.tsv and the group folders)`)
  const [header, ...lines] = fs.readFileSync(index, 'utf8').trim().split('\n')
  const cols = header!.split('\t')
  const fileCol = cols.indexOf('file')
  const groupCol = cols.indexOf('group')
  if (fileCol < 0 || groupCol < 0) throw new Error(`${index}: no file or group column`)
  return lines.map((l) => {
    const f = l.split('\t')
    const name = path.join(f[groupCol]!, f[fileCol]!)
    const raw = toCrlf(fs.readFileSync(path.join(dir, name)))
    return { name, raw, ctx: { ip: CLIENT_IP, helo: CLIENT_HELO, sender: returnPath(raw) } }
  })
}

export interface Sender {
  readonly domain: string
  readonly shop: string
  /** a registered brand's domain (its notices can be `verified`) */
  readonly brand: boolean
}

/**
 * `count` sending domains: every registered brand's sending domains first (names and
 * domains from the registry the plugin loads, free-mail domains left out), then made-up
 * shops `shop-N.example`.
 * Shuffled with a fixed seed, so that the popular ones are a mix of both.
 */
export function senders(settings: Settings, count: number, seed = 1): Sender[] {
  const out: Sender[] = []
  const seen = new Set<string>()
  for (const brand of settings.registry.brands.values()) {
    for (const domain of brand.sending_domains) {
      // a free-mail domain a brand also sends from (icloud.com) speaks for anyone: not a shop's notice
      if (seen.has(domain) || settings.registry.lists.free_mail_domains.has(domain)) continue
      seen.add(domain)
      out.push({ domain, shop: brand.names[0] ?? brand.id, brand: true })
    }
  }
  for (let i = 1; out.length < count; i++) out.push({ domain: `shop-${i}.example`, shop: `Shop ${i}`, brand: false })
  const random = rng(seed)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out.slice(0, count)
}

/** About what a DKIM-Signature adds (RSA-2048, 8 signed fields): notices are grown to `bytes` minus this. */
const SIGNATURE_BYTES = 700

/** A DKIM-signed order confirmation of about `bytes` bytes from `sender`. */
export async function signedNotice(sender: Sender, bytes: number, seq: number, privateKey: string): Promise<Sample> {
  const raw = notice({ domain: sender.domain, shop: sender.shop, lang: seq % 2 ? 'en' : 'ja', bytes: Math.max(1000, bytes - SIGNATURE_BYTES), seq })
  return {
    name: `${sender.domain}#${seq}`,
    raw: await sign(raw, sender.domain, privateKey),
    ctx: { ip: CLIENT_IP, helo: CLIENT_HELO, sender: `bounce@${sender.domain}` },
  }
}

/** `count` signed notices of about `bytes` bytes, from the first `domains` senders in turn. */
export async function noticeSet(all: readonly Sender[], domains: number, count: number, bytes: number, privateKey: string): Promise<Sample[]> {
  const out: Sample[] = []
  for (let i = 0; i < count; i++) out.push(await signedNotice(all[i % Math.min(domains, all.length)]!, bytes, i, privateKey))
  return out
}

export interface Mix {
  /** one signed template per sender */
  readonly templates: readonly Sample[]
  /** the sender (index into templates) of each message, skewed */
  readonly order: Uint32Array
}

/** `messages` messages from `domains` senders, the sender of each drawn by Zipf(s). */
export async function senderMix(settings: Settings, domains: number, messages: number, bytes: number, privateKey: string, s = 1): Promise<Mix> {
  const all = senders(settings, domains)
  const templates: Sample[] = []
  for (let i = 0; i < all.length; i++) templates.push(await signedNotice(all[i]!, bytes, i, privateKey))
  const draw = zipf(all.length, s, rng(2))
  const order = new Uint32Array(messages)
  for (let i = 0; i < messages; i++) order[i] = draw()
  return { templates, order }
}

let oneOffTemplate: { readonly text: string; readonly bytes: number } | undefined
const ONE_OFF_DOMAIN = 'once-0.example'

/** An unsigned notice from a domain seen once (the long tail of a relay's senders: new domains, spam). */
export function oneOff(n: number, bytes: number): Sample {
  if (oneOffTemplate?.bytes !== bytes) {
    oneOffTemplate = { bytes, text: notice({ domain: ONE_OFF_DOMAIN, shop: 'Once', lang: 'en', bytes, seq: 0 }).toString('latin1') }
  }
  const domain = `once-${n}.example`
  const raw = Buffer.from(oneOffTemplate.text.replaceAll(ONE_OFF_DOMAIN, domain), 'latin1')
  return { name: domain, raw, ctx: { ip: CLIENT_IP, helo: CLIENT_HELO, sender: `bounce@${domain}` } }
}
