/**
 * End to end: a real Haraka (child process) with the plugin installed both ways
 * INTERFACE.md supports, a real DNS server on loopback (haraka-test-fixtures), mail
 * sent over SMTP, and what Haraka delivered (var/maildir/new) or quarantined
 * (var/quarantine) read back from disk.
 *
 * Every DNS name the test mail uses is answered by the fixture (or is deliberately
 * NXDOMAIN there); nothing leaves 127.0.0.0/8: test/helpers/dns-guard.cjs points every
 * node:dns resolver of the Haraka process (core's rDNS of the client included) at the
 * fixture and reports any other use, which each group asserts never happened.
 *
 * E2E_DEBUG=1 prints the header blocks of the genuine and the spoofed message as stored.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { dkimSign } from 'mailauth'
import t, { type Test } from 'tap'

import { type Haraka, PKG_ROOT, type StoredMessage, parseStored, startHaraka } from '../helpers/haraka'
import { type SendResult, sendMail } from '../helpers/smtp'

interface DnsFixture {
  readonly port: number
  close(): Promise<void>
}
// haraka-test-fixtures is untyped CommonJS
const fixtures = require('haraka-test-fixtures') as {
  dns: { start(zones: Record<string, unknown>): Promise<DnsFixture> }
}

const AUTHSERV_ID = 'mx.test.example'
const SHOP = 'shop.example' // registered below as brand `testshop`
const SLOW_SHOP = 'slow-shop.example' // the same brand; every name of it is a DNS black hole
const PLAIN = 'plain.example' // a private person's domain, not a brand
const ATTACKER = 'attacker.example' // NXDOMAIN, deliberately
const SELECTOR = 'sel'
const GENUINE_IP = '127.0.0.1' // the only address shop.example's SPF allows
const ATTACKER_IP = '127.0.0.2' // also loopback, but SPF -all for shop.example

// ---------------------------------------------------------------- keys and DNS

const rsa = (): { privateKey: string; txt: string[] } => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  // one TXT record of several character-strings, each at most 255 bytes
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), txt: `v=DKIM1; k=rsa; p=${p}`.match(/.{1,200}/g)! }
}
const shopKey = rsa() // published at sel._domainkey.shop.example
const attackerKey = rsa() // claims d=shop.example s=sel, but is not the published key

const ZONES: Record<string, unknown> = {
  [SHOP]: { txt: [`v=spf1 ip4:${GENUINE_IP} -all`], a: ['127.0.0.1'] },
  [`${SELECTOR}._domainkey.${SHOP}`]: { txt: shopKey.txt },
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
  [PLAIN]: { txt: [`v=spf1 ip4:${GENUINE_IP} -all`], a: ['127.0.0.1'] },
  [`_dmarc.${PLAIN}`]: { txt: ['v=DMARC1; p=none'] },
  [SLOW_SHOP]: { drop: true },
  [`${SELECTOR}._domainkey.${SLOW_SHOP}`]: { drop: true },
  [`_dmarc.${SLOW_SHOP}`]: { drop: true },
  // attacker.example, _dmarc.example and every other name: NXDOMAIN
}

// ---------------------------------------------------------------- configuration

/** The admin's registry, merged over the package's brand by brand. */
const RETAILERS_OVERRIDE = `retailers:
  testshop:
    names: [TestShop, テストショップ]
    sending_domains: [${SHOP}, ${SLOW_SHOP}]
`

/** The admin's shop-notice.ini in installed mode: only what the test must change. */
const installedIni = (dnsPort: number, mode: string, privateIp = false): string => `[main]
authserv_id=${AUTHSERV_ID}

[skip]
private_ip=${privateIp}

[dns]
servers=127.0.0.1:${dnsPort}
timeout_ms=600
message_timeout_ms=2000

[actions]
mode=${mode}
`

/** Sets `key=value` in `[section]` of an ini text (the key must already be there). */
const setIni = (text: string, section: string, key: string, value: string): string => {
  const lines = text.split('\n')
  let inSection = false
  let done = false
  const out = lines.map((line) => {
    const s = /^\s*\[([^\]]+)\]/.exec(line)
    if (s) inSection = s[1] === section
    if (inSection && !done && new RegExp(`^\\s*${key}\\s*=`).test(line)) {
      done = true
      return `${key}=${value}`
    }
    return line
  })
  if (!done) throw new Error(`setIni: no ${key} in [${section}]`)
  return out.join('\n')
}

// ---------------------------------------------------------------- messages

const encodeWord = (s: string): string => (/^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s).toString('base64')}?=`)

let seq = 0
interface Spec {
  readonly from: string
  readonly subject: string
  readonly body: string
  /** header lines put on top, as written */
  readonly extraHeaders?: readonly string[]
}
interface Built {
  readonly data: Buffer
  readonly messageId: string
  /** the body as sent, LF line endings */
  readonly body: Buffer
}

/** A message as bytes (CRLF), UTF-8 body sent 8bit. */
function build(spec: Spec): Built {
  const messageId = `<e2e.${process.pid}.${++seq}.${Date.now()}@test.example>`
  const head = [
    ...(spec.extraHeaders ?? []),
    `From: ${spec.from}`,
    'To: customer@recipient.example',
    `Subject: ${encodeWord(spec.subject)}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
  ].join('\r\n')
  const body = spec.body.replace(/\r?\n/g, '\r\n')
  return {
    data: Buffer.from(`${head}\r\n\r\n${body}`, 'utf8'),
    messageId,
    body: Buffer.from(spec.body.replace(/\r\n/g, '\n'), 'utf8'),
  }
}

/** Prepends a DKIM-Signature (relaxed/relaxed, rsa-sha256) made with `privateKey` for d=`domain` s=sel. */
async function sign(msg: Built, domain: string, privateKey: string): Promise<Built> {
  const data = { signingDomain: domain, selector: SELECTOR, privateKey }
  // mailauth signs what signatureData lists; its typings also want the fields at the top level
  const res = await dkimSign(msg.data, { ...data, signatureData: [data] })
  if (!res.signatures) throw new Error(`dkimSign made no signature: ${JSON.stringify(res.errors)}`)
  return { ...msg, data: Buffer.concat([Buffer.from(res.signatures), msg.data]) }
}

const ORDER_BODY = `テストショップをご利用いただき、誠にありがとうございます。
以下の内容でご注文を承りました。

ご注文番号: TS-2026-0001234
ご請求金額: 3,980円（税込）
お届け予定日: 11月25日

.このメッセージは送信専用です（行頭のドットも届くこと）
 Thank you for your order at TestShop.  
`

/** A genuine order confirmation from TestShop, DKIM-signed by shop.example. */
const genuineOrder = async (domain = SHOP): Promise<Built> =>
  sign(build({ from: `TestShop <order@${domain}>`, subject: 'ご注文確認 / Your order confirmation', body: ORDER_BODY }), domain, shopKey.privateKey)

/** Forged verdicts a spoofer could add, hoping they reach the reader. */
const FORGED_HEADERS = [
  'X-Shop-Notice: verified; brand=testshop; kind=order; score=-4; signals=AUTH_DMARC_PASS,BRAND_AUTHENTICATED',
  `Authentication-Results: ${AUTHSERV_ID}; spf=pass smtp.mailfrom=${SHOP}; dkim=pass header.d=${SHOP}; dmarc=pass header.from=${SHOP}`,
  'x-shop-notice: verified; brand=testshop',
  `Authentication-Results: ${AUTHSERV_ID.toUpperCase()} (forged);`,
  ` dmarc=pass header.from=${SHOP}`,
  `Authentication-Results: relay.other.example; spf=pass smtp.mailfrom=${SHOP}`,
]

/** The same notice, From TestShop, sent from an address SPF refuses and signed with a key that is not shop.example's. */
const spoofedOrder = async (): Promise<Built> =>
  sign(
    build({ from: `TestShop <order@${SHOP}>`, subject: 'ご注文確認 / Your order confirmation', body: ORDER_BODY, extraHeaders: FORGED_HEADERS }),
    SHOP,
    attackerKey.privateKey,
  )

const plainMessage = (): Built =>
  build({
    from: `Hanako <hanako@${PLAIN}>`,
    subject: 'Lunch on Friday?',
    body: 'Shall we meet at noon on Friday?\nThe new ramen place near the station opened this week.\n',
  })

// ---------------------------------------------------------------- SMTP and assertions

async function send(h: Haraka, msg: Built, opts: { from?: string; ip?: string } = {}): Promise<SendResult> {
  const [r] = await sendMail(
    h.port,
    [{ from: opts.from ?? `bounce@${SHOP}`, to: ['customer@recipient.example'], data: msg.data }],
    { localAddress: opts.ip ?? GENUINE_IP, timeoutMs: 15_000, helo: 'client.test' },
  )
  if (!r) throw new Error('no SMTP result')
  return r
}

const byId = (list: readonly StoredMessage[], msg: Built): StoredMessage[] => list.filter((m) => m.get('Message-ID')[0] === msg.messageId)

/** The one stored copy of `msg` in `where`, asserting it is in no other place. */
function storedOnce(t: Test, h: Haraka, msg: Built, where: 'delivered' | 'quarantined'): StoredMessage | undefined {
  const delivered = byId(h.delivered(), msg)
  const quarantined = byId(h.quarantined(), msg)
  t.equal(delivered.length, where === 'delivered' ? 1 : 0, `${where === 'delivered' ? 'one copy' : 'no copy'} in var/maildir/new`)
  t.equal(quarantined.length, where === 'quarantined' ? 1 : 0, `${where === 'quarantined' ? 'one copy' : 'no copy'} in var/quarantine`)
  return (where === 'delivered' ? delivered : quarantined)[0]
}

function notStored(t: Test, h: Haraka, msg: Built): void {
  t.equal(byId(h.delivered(), msg).length, 0, 'nothing in var/maildir/new')
  t.equal(byId(h.quarantined(), msg).length, 0, 'nothing in var/quarantine')
}

interface VerdictHeader {
  verdict: string
  brand: string
  kind: string
  score: number
  signals: string[]
}
const VERDICT_RE = /^(none|notice|verified|suspicious|spoofed|error); brand=([a-z0-9_-]+|-); kind=([a-z0-9_-]+|-); score=(-?\d+(?:\.\d+)?); signals=([A-Z0-9_,]+|-)$/

/** Exactly one X-Shop-Notice, in the documented syntax. */
function verdictOf(t: Test, m: StoredMessage): VerdictHeader {
  const values = m.get('X-Shop-Notice')
  t.equal(values.length, 1, 'exactly one X-Shop-Notice')
  const v = values[0] ?? ''
  const r = VERDICT_RE.exec(v)
  t.ok(r, `X-Shop-Notice has the documented syntax: ${v}`)
  return {
    verdict: r?.[1] ?? '',
    brand: r?.[2] ?? '',
    kind: r?.[3] ?? '',
    score: Number(r?.[4]),
    signals: r?.[5] === '-' ? [] : (r?.[5] ?? '').split(','),
  }
}

const authservIdOf = (v: string): string =>
  (v.split(';', 1)[0] ?? '')
    .replace(/\([^)]*\)/g, ' ')
    .trim()
    .toLowerCase()

/** Exactly one Authentication-Results of ours, `authserv-id; spf=…; dkim=…; dmarc=…; arc=…`; returns its results by method. */
function ourAuthResults(t: Test, m: StoredMessage): { value: string; results: Record<string, string[]> } {
  const ours = [...m.get('Authentication-Results'), ...m.get('Original-Authentication-Results')].filter((v) => authservIdOf(v) === AUTHSERV_ID)
  t.equal(ours.length, 1, 'exactly one Authentication-Results carries our authserv-id')
  t.equal(m.get('Authentication-Results').filter((v) => authservIdOf(v) === AUTHSERV_ID).length, 1, '... and it is an Authentication-Results field')
  const value = ours[0] ?? ''
  const results: Record<string, string[]> = {}
  for (const part of value.replace(/\([^)]*\)/g, ' ').split(';').slice(1)) {
    const r = /^\s*([a-z]+)\s*=\s*([a-z]+)/i.exec(part)
    if (r) (results[r[1]!.toLowerCase()] ??= []).push(r[2]!.toLowerCase())
  }
  t.same(Object.keys(results), ['spf', 'dkim', 'dmarc', 'arc'], `spf, dkim, dmarc, arc in that order: ${value}`)
  return { value, results }
}

/** The stored body is the sent body, byte for byte (line endings aside: maildir and quarantine store LF). */
const sameBody = (t: Test, m: StoredMessage, msg: Built): void => {
  const stored = Buffer.from(m.body.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')
  t.ok(stored.equals(msg.body), 'the body is byte-identical to the one sent')
  if (!stored.equals(msg.body)) t.comment(JSON.stringify({ stored: stored.toString('utf8'), sent: msg.body.toString('utf8') }))
}

/** Every header field the sender wrote is there, unchanged and in its order (ours and Haraka's come on top). */
const sameSenderHeaders = (t: Test, m: StoredMessage, msg: Built): void => {
  const sent = parseStored('sent', msg.data).headers.map((x) => `${x.name.toLowerCase()}: ${x.value}`)
  const stored = m.headers.map((x) => `${x.name.toLowerCase()}: ${x.value}`)
  t.same(stored.slice(stored.length - sent.length), sent, "the sender's header fields are kept as they were, in order")
}

/** With E2E_DEBUG=1 in the environment, prints a stored message's header block. */
const showStored = (t: Test, m: StoredMessage): void => {
  if (process.env.E2E_DEBUG) t.comment(m.raw.toString('utf8').split(/\r?\n\r?\n/, 1)[0] ?? '')
}

/** No DNS query and no host name lookup ever left the loopback fixture. */
const dnsStayedLocal = (t: Test, h: Haraka): void => {
  t.notMatch(h.output(), /DNS-GUARD/, 'Haraka used no resolver but the loopback fixture')
}

// ---------------------------------------------------------------- the tests

let dns: DnsFixture

t.before(async () => {
  dns = await fixtures.dns.start(ZONES)
})
t.teardown(async () => {
  await dns?.close()
})

/** An English order notice from an unregistered domain whose display name is a package brand's. */
const amazonDisplayNameSpoof = () =>
  build({
    from: `"Amazon.co.jp" <account-update@${ATTACKER}>`,
    subject: 'Your order confirmation',
    body: 'Thank you for your order.\nOrder number: 503-1234567-1234567\nTotal: 12,800 JPY\n',
  })

/** A Haraka in installed mode with the admin's ini for this mode, stopped when the test ends. */
async function installedHaraka(t: Test, mode: string, privateIp = false): Promise<Haraka> {
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      'shop-notice.ini': installedIni(dns.port, mode, privateIp),
      'shop-notice.retailers.yaml': RETAILERS_OVERRIDE,
    },
  })
  t.teardown(() => h.stop())
  return h
}

t.test('installed mode, quarantine', async (t) => {
  const h = await installedHaraka(t, 'quarantine')

  t.test('the package is what Haraka loaded', async (t) => {
    t.equal(fs.realpathSync(path.join(h.dir, 'node_modules', 'haraka-plugin-shop-notice')), PKG_ROOT, 'node_modules/haraka-plugin-shop-notice is the package')
    t.notOk(fs.existsSync(path.join(h.dir, 'plugins', 'shop-notice.js')), 'and there is no plugins/shop-notice.js to load instead')
    t.match(h.output(), /\[plugins\] loading shop-notice/, 'the shop-notice plugin is loaded')
    t.notMatch(h.output(), /\[(ERROR|CRIT|EMERG)\] \[[^\]]*\] \[(shop-notice|maildir|queue\/quarantine)\]|Loading plugin/, 'without errors')
  })

  t.test('a DKIM-signed notice from the brand is verified and delivered unchanged', async (t) => {
    const msg = await genuineOrder()
    const r = await send(h, msg)
    t.equal(r.final?.code, 250, `accepted: ${r.final?.text}`)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    const v = verdictOf(t, m)
    t.match(v, { verdict: 'verified', brand: 'testshop', kind: 'order' })
    t.ok(v.signals.includes('BRAND_AUTHENTICATED') && v.signals.includes('AUTH_DMARC_PASS'), 'BRAND_AUTHENTICATED and AUTH_DMARC_PASS')
    t.notOk(v.signals.includes('BRAND_NOT_AUTHENTICATED'), 'not BRAND_NOT_AUTHENTICATED')
    t.ok(v.score < 5, 'scores below the suspicious threshold')
    const ar = ourAuthResults(t, m)
    t.same(ar.results, { spf: ['pass'], dkim: ['pass'], dmarc: ['pass'], arc: ['none'] })
    t.match(ar.value, new RegExp(`dkim=pass header\\.i=@${SHOP.replace('.', '\\.')} header\\.s=${SELECTOR}`), 'DKIM passed for shop.example')
    t.match(ar.value, `header.from=${SHOP}`, 'DMARC for the From domain')
    t.equal(m.get('Subject')[0], encodeWord('ご注文確認 / Your order confirmation'), 'the subject is not changed')
    sameSenderHeaders(t, m, msg)
    sameBody(t, m, msg)
    showStored(t, m)
    t.comment(`genuine, as delivered:\n${m.headers.filter((x) => /^(x-shop-notice|authentication-results)$/i.test(x.name)).map((x) => `${x.name}: ${x.value}`).join('\n')}`)
  })

  t.test('a message that is not a notice gets the verdict none and is delivered', async (t) => {
    const msg = plainMessage()
    const r = await send(h, msg, { from: `hanako@${PLAIN}` })
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    const v = verdictOf(t, m)
    t.match(v, { verdict: 'none', brand: '-', kind: '-' })
    const ar = ourAuthResults(t, m)
    t.same(ar.results.spf, ['pass'], 'still authenticated: spf=pass')
    sameBody(t, m, msg)
  })

  t.test('a spoofed notice of the brand is quarantined whole, its forged verdicts removed', async (t) => {
    const msg = await spoofedOrder()
    const r = await send(h, msg, { ip: ATTACKER_IP })
    t.equal(r.final?.code, 250, `quarantine answers 250: ${r.final?.text}`)
    const m = storedOnce(t, h, msg, 'quarantined')
    if (!m) return
    const v = verdictOf(t, m)
    t.match(v, { verdict: 'spoofed', brand: 'testshop', kind: 'order' })
    t.ok(v.score >= 10, `at least the spoofed threshold: ${v.score}`)
    for (const s of ['AUTH_DMARC_FAIL_ENFORCED', 'AUTH_SPF_FAIL', 'AUTH_NONE', 'BRAND_NOT_AUTHENTICATED']) t.ok(v.signals.includes(s), s)
    t.notOk(v.signals.includes('BRAND_AUTHENTICATED'), 'not BRAND_AUTHENTICATED')
    const ar = ourAuthResults(t, m)
    t.same(ar.results, { spf: ['fail'], dkim: ['fail'], dmarc: ['fail'], arc: ['none'] })
    t.match(ar.value, /policy\.dmarc=reject|\(p=reject/, 'the p=reject policy is reported')
    // the forged copies are gone; the foreign one stays (renamed by Haraka core)
    t.notMatch(m.get('X-Shop-Notice').join('\n'), /verified/, 'no forged X-Shop-Notice: verified')
    const anyAr = [...m.get('Authentication-Results'), ...m.get('Original-Authentication-Results')]
    t.notOk(anyAr.some((x) => /dmarc=pass/.test(x)), 'no Authentication-Results says dmarc=pass')
    t.notMatch(m.raw.toString('utf8'), /dmarc=pass/, 'dmarc=pass appears nowhere in the stored message')
    t.ok(anyAr.some((x) => authservIdOf(x) === 'relay.other.example'), "another relay's Authentication-Results is kept")
    showStored(t, m)
    sameBody(t, m, msg)
    t.comment(`spoofed, as quarantined:\n${m.headers.filter((x) => /^(x-shop-notice|(original-)?authentication-results)$/i.test(x.name)).map((x) => `${x.name}: ${x.value}`).join('\n')}`)
  })

  t.test("the package's registry is merged with the admin's: a display-name spoof of a package brand", async (t) => {
    const msg = amazonDisplayNameSpoof()
    const r = await send(h, msg, { from: `bounce@${ATTACKER}` })
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'quarantined')
    if (!m) return
    const v = verdictOf(t, m)
    t.match(v, { verdict: 'spoofed', brand: 'amazon', kind: 'order' }, 'brand amazon comes from the package registry')
    t.ok(v.signals.includes('BRAND_DISPLAY_NAME_MISMATCH') && v.signals.includes('BRAND_NOT_AUTHENTICATED'))
    sameBody(t, m, msg)
  })

  t.test('a DNS timeout on the brand defers (451), stores nothing and never says spoofed', async (t) => {
    const msg = await genuineOrder(SLOW_SHOP)
    const r = await send(h, msg, { from: `bounce@${SLOW_SHOP}` })
    const code = r.final?.code ?? 0
    t.ok(code >= 400 && code < 500, `a temporary failure (4xx): ${code} ${r.final?.text}`)
    t.match(r.final?.text, /Temporary DNS failure/, 'saying why')
    t.equal(code, 451, 'the 451 config/shop-notice.ini documents for defer_on_dns_error')
    t.match(r.final?.text, /^4\.4\.3 /, 'with the enhanced status 4.4.3')
    notStored(t, h, msg)
    const log = /verdict=(\S+) brand=testshop kind=order score=(\S+) signals=(\S+) action=defer ms=(\d+)/.exec(h.output())
    t.ok(log, 'logged as deferred')
    t.same(log?.slice(1, 4), ['notice', '0.5', 'AUTH_DNS_TEMPFAIL'], 'a notice with AUTH_DNS_TEMPFAIL only, not spoofed')
    // SPF and DKIM time out together, then DMARC: with the package defaults (2000 ms a query) that
    // takes 4 s at least; the admin's timeout_ms=600 / message_timeout_ms=2000 are in force
    t.ok(Number(log?.[4]) < 3000, `the scan gave up within the admin's DNS budget (${log?.[4]} ms)`)
  })

  t.test('DNS stayed on loopback', async (t) => dnsStayedLocal(t, h))
})

t.test('installed mode, monitor: the same mail, headers only', async (t) => {
  const h = await installedHaraka(t, 'monitor')

  t.test('a spoofed notice is delivered, marked spoofed', async (t) => {
    const msg = await spoofedOrder()
    const r = await send(h, msg, { ip: ATTACKER_IP })
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    t.match(verdictOf(t, m), { verdict: 'spoofed', brand: 'testshop' })
    t.same(ourAuthResults(t, m).results.dmarc, ['fail'])
    t.notMatch(m.raw.toString('utf8'), /dmarc=pass|X-Shop-Notice: verified/i, 'no forged verdict survives')
    sameBody(t, m, msg)
  })

  t.test('a DNS timeout is delivered with temperror, never spoofed or suspicious', async (t) => {
    const msg = await genuineOrder(SLOW_SHOP)
    const r = await send(h, msg, { from: `bounce@${SLOW_SHOP}` })
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    const v = verdictOf(t, m)
    t.match(v, { verdict: 'notice', brand: 'testshop', kind: 'order' })
    t.not(v.verdict, 'spoofed')
    t.not(v.verdict, 'suspicious')
    t.same(v.signals, ['AUTH_DNS_TEMPFAIL'], 'only AUTH_DNS_TEMPFAIL: no failure is inferred')
    const ar = ourAuthResults(t, m)
    t.same(ar.results, { spf: ['temperror'], dkim: ['temperror'], dmarc: ['temperror'], arc: ['none'] })
    sameBody(t, m, msg)
    t.comment(`DNS timeout, as delivered in monitor mode:\n${m.headers.filter((x) => /^(x-shop-notice|authentication-results)$/i.test(x.name)).map((x) => `${x.name}: ${x.value}`).join('\n')}`)
  })

  t.test('DNS stayed on loopback', async (t) => dnsStayedLocal(t, h))
})

t.test('installed mode, [skip] private_ip=true: loopback mail is not scanned', async (t) => {
  const h = await installedHaraka(t, 'quarantine', true)

  t.test('a spoofed notice passes unscanned, but without its forged verdicts', async (t) => {
    const msg = await spoofedOrder()
    const r = await send(h, msg, { ip: ATTACKER_IP })
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    t.same(m.get('X-Shop-Notice'), [], 'no X-Shop-Notice: not scanned, and the forged ones removed')
    const ours = [...m.get('Authentication-Results'), ...m.get('Original-Authentication-Results')].filter((v) => authservIdOf(v) === AUTHSERV_ID)
    t.same(ours, [], 'no Authentication-Results with our authserv-id')
    t.notMatch(m.raw.toString('utf8'), /dmarc=pass/, 'no forged dmarc=pass')
    sameBody(t, m, msg)
    t.notMatch(h.output(), /\[shop-notice\].*verdict=/, 'no verdict was logged: nothing was scanned')
  })

  t.test('DNS stayed on loopback', async (t) => dnsStayedLocal(t, h))
})

t.test('repository mode (npm start), [actions] mode=reject', async (t) => {
  const h = await startHaraka({
    layout: 'repository',
    dnsPort: dns.port,
    config: {
      // the repository's own file, with the resolver, the authserv-id and the mode changed
      'shop-notice.ini': (ini) =>
        setIni(setIni(setIni(ini, 'dns', 'servers', `127.0.0.1:${dns.port}`), 'main', 'authserv_id', AUTHSERV_ID), 'actions', 'mode', 'reject'),
      // the repository's registry with the test brand appended
      'shop-notice.retailers.yaml': (yaml) =>
        `${yaml.trimEnd()}\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [${SHOP}, ${SLOW_SHOP}]\n`,
    },
  })
  t.teardown(() => h.stop())

  t.test('a DKIM-signed notice from the brand is verified and delivered', async (t) => {
    const msg = await genuineOrder()
    const r = await send(h, msg)
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    t.match(verdictOf(t, m), { verdict: 'verified', brand: 'testshop', kind: 'order' })
    t.same(ourAuthResults(t, m).results, { spf: ['pass'], dkim: ['pass'], dmarc: ['pass'], arc: ['none'] })
    sameBody(t, m, msg)
  })

  t.test('a spoofed notice over the reject threshold is refused with 550', async (t) => {
    const msg = await spoofedOrder()
    const r = await send(h, msg, { ip: ATTACKER_IP })
    t.equal(r.final?.code, 550, `rejected: ${r.final?.text}`)
    t.match(r.final?.text, /forged shop notice/, "the package's reject_message")
    notStored(t, h, msg)
    t.match(h.output(), /verdict=spoofed brand=testshop kind=order score=(\d+).*action=reject/, 'logged as rejected')
  })

  t.test('a display-name spoof of a package brand (under the reject threshold) is quarantined', async (t) => {
    const msg = amazonDisplayNameSpoof()
    const r = await send(h, msg, { from: `bounce@${ATTACKER}` })
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'quarantined')
    if (!m) return
    t.match(verdictOf(t, m), { verdict: 'spoofed', brand: 'amazon' })
  })

  t.test('DNS stayed on loopback', async (t) => dnsStayedLocal(t, h))
})

t.test("installed mode, another plugin reporting to Haraka's connection.auth_results()", async (t) => {
  // A stand-in for plugins such as core's spf or auth/*, which give Haraka a fragment for its own
  // Authentication-Results. `me` is our authserv-id, as it is by default ([main] authserv_id empty).
  const other = [
    "'use strict'",
    '// e2e test: another plugin contributes an Authentication-Results fragment the way core plugins do',
    "exports.hook_mail = function (next, connection) { connection.auth_results('iprev=pass policy.iprev=127.0.0.1'); next() }",
    '',
  ].join('\n')
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      me: `${AUTHSERV_ID}\n`,
      'shop-notice.ini': installedIni(dns.port, 'quarantine'),
      'shop-notice.retailers.yaml': RETAILERS_OVERRIDE,
      plugins: 'ar-other\nshop-notice\nqueue/quarantine\nmaildir\n',
    },
    files: { 'plugins/ar-other.js': other },
  })
  t.teardown(() => h.stop())

  t.test('one Authentication-Results: ours, with our results and the other fragment', async (t) => {
    const msg = await genuineOrder()
    const r = await send(h, msg)
    t.equal(r.final?.code, 250)
    const m = storedOnce(t, h, msg, 'delivered')
    if (!m) return
    t.match(verdictOf(t, m), { verdict: 'verified', brand: 'testshop' }, 'the scan itself ran')
    const all = m.get('Authentication-Results')
    const ours = all.filter((v) => authservIdOf(v) === AUTHSERV_ID)
    t.equal(ours.length, 1, 'exactly one Authentication-Results with our authserv-id')
    t.ok(all.some((v) => /iprev=pass/.test(v)), "the other plugin's result is not lost")
    // Haraka's data_post_respond() rewrites every Authentication-Results from the auth_results notes: ours must survive it
    t.match(ours[0] ?? '', /spf=pass.*dkim=pass.*dmarc=pass.*arc=none/, 'with our spf, dkim, dmarc and arc results')
    t.match(ours[0] ?? '', /iprev=pass/, "and the other plugin's fragment merged in")
    t.comment(`as delivered:\n${all.map((v) => `Authentication-Results: ${v}`).join('\n')}`)
  })
})

t.test('an invalid admin shop-notice.ini: Haraka refuses to start, naming the file and the key', async (t) => {
  const err = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    startTimeoutMs: 10_000,
    config: {
      'shop-notice.ini': `${installedIni(dns.port, 'quarantine')}\n[thresholds]\nspoofed=oops\n`,
      'shop-notice.retailers.yaml': RETAILERS_OVERRIDE,
    },
  }).then(
    async (h) => {
      await h.stop()
      return undefined
    },
    (e: Error) => e,
  )
  t.ok(err, 'Haraka did not start')
  t.match(err?.message, /exited before listening/, 'it exited, rather than hanging')
  t.match(err?.message, /config\/shop-notice\.ini: \[thresholds\] spoofed: expected a number, got "oops"/, 'the file, the key and what is wrong')
  t.notMatch(err?.message, /Listening on/, 'it never listened')
})

t.test('a malformed line in the admin shop-notice.ini: Haraka refuses to start, naming the file and the line', async (t) => {
  const ini = `${installedIni(dns.port, 'quarantine')}\n[actions]\nmode: reject\n`
  const line = ini.split('\n').indexOf('mode: reject') + 1
  const err = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    startTimeoutMs: 10_000,
    config: { 'shop-notice.ini': ini, 'shop-notice.retailers.yaml': RETAILERS_OVERRIDE },
  }).then(
    async (h) => {
      await h.stop()
      return undefined
    },
    (e: Error) => e,
  )
  t.ok(err, 'Haraka did not start')
  t.match(err?.message, /exited before listening/, 'it exited, rather than hanging')
  t.match(err?.message, new RegExp(`config/shop-notice\\.ini: line ${line}: not a section, key=value, comment or blank line: "mode: reject"`), 'the file and the line')
  t.notMatch(err?.message, /Listening on/, 'it never listened')
})
