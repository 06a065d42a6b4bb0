/**
 * shop-notice beside the real haraka-plugin-spf and haraka-plugin-dkim, as
 * docs/karma.md configures them ("Running beside haraka-plugin-spf and
 * haraka-plugin-dkim"): a real Haraka, DNS on a loopback fixture, a DKIM-signed
 * message over SMTP; the delivered message must carry exactly one
 * Authentication-Results per authserv-id, and no method twice in one.
 *
 * haraka-plugin-spf skips clients on private addresses, and every test client is
 * on loopback: a test-only plugin listed first marks the connection public, as a
 * client on the Internet would be. Nothing else about the connection changes.
 */
import crypto from 'node:crypto'
import { dkimSign } from 'mailauth'
import t, { type Test } from 'tap'

import { type StoredMessage, startHaraka } from '../helpers/haraka'
import { sendMail } from '../helpers/smtp'

interface DnsFixture {
  readonly port: number
  close(): Promise<void>
}
const fixtures = require('haraka-test-fixtures') as { dns: { start(zones: Record<string, unknown>): Promise<DnsFixture> } }

const ME = 'mx.test.example'
const SHOP = 'shop.example'
const SELECTOR = 'sel'

const key = (() => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), txt: `v=DKIM1; k=rsa; p=${p}`.match(/.{1,200}/g)! }
})()

const ZONES = {
  [SHOP]: { txt: ['v=spf1 ip4:127.0.0.1 -all'], a: ['127.0.0.1'] },
  [`${SELECTOR}._domainkey.${SHOP}`]: { txt: key.txt },
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
}

const PUBLIC_REMOTE = [
  "'use strict'",
  '// test only: the client is on loopback, but must look like one on the Internet to haraka-plugin-spf',
  'exports.hook_connect_init = function (next, connection) {',
  '  connection.remote.is_private = false',
  '  next()',
  '}',
  '',
].join('\n')

const PLUGINS = ['public-remote', 'spf', 'dkim', 'shop-notice', 'queue/quarantine', 'maildir', ''].join('\n')

let seq = 0
async function signedOrder(): Promise<{ data: Buffer; messageId: string }> {
  const messageId = `<coexist.${process.pid}.${++seq}@test.example>`
  const raw = Buffer.from(
    [
      `From: TestShop <order@${SHOP}>`,
      'To: customer@recipient.example',
      'Subject: Your order confirmation',
      `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: ${messageId}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'Thank you for your order at TestShop.',
      'Order number: TS-2026-0001234',
      'Total: 3,980 JPY',
      '',
    ].join('\r\n'),
  )
  const data = { signingDomain: SHOP, selector: SELECTOR, privateKey: key.privateKey }
  const res = await dkimSign(raw, { ...data, signatureData: [data] })
  if (!res.signatures) throw new Error(`dkimSign: ${JSON.stringify(res.errors)}`)
  return { data: Buffer.concat([Buffer.from(res.signatures), raw]), messageId }
}

const authservIdOf = (v: string): string =>
  (v.split(';', 1)[0] ?? '')
    .replace(/\([^)]*\)/g, ' ')
    .trim()
    .toLowerCase()

/** method -> how many times it appears in one Authentication-Results value. */
function methods(v: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const part of v.replace(/\([^)]*\)/g, ' ').split(';').slice(1)) {
    const m = /^\s*([a-z][a-z0-9-]*)\s*=/i.exec(part)
    if (m) out[m[1]!.toLowerCase()] = (out[m[1]!.toLowerCase()] ?? 0) + 1
  }
  return out
}

let dns: DnsFixture
t.before(async () => {
  dns = await fixtures.dns.start(ZONES)
})
t.teardown(async () => {
  await dns?.close()
})

async function deliver(t: Test, shopNoticeIni: string): Promise<{ m: StoredMessage | undefined; log: string }> {
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      me: `${ME}\n`,
      plugins: PLUGINS,
      'shop-notice.ini': `${shopNoticeIni}\n[dns]\nservers=127.0.0.1:${dns.port}\ntimeout_ms=600\nmessage_timeout_ms=2000\n`,
      'shop-notice.retailers.yaml': `retailers:\n  testshop:\n    names: [TestShop]\n    sending_domains: [${SHOP}]\n`,
      // docs/karma.md: verify only
      'dkim.ini': '[sign]\nenabled=false\n[verify]\nenabled=true\n',
    },
    files: { 'plugins/public-remote.js': PUBLIC_REMOTE },
  })
  t.teardown(() => h.stop())
  const msg = await signedOrder()
  const [r] = await sendMail(h.port, [{ from: `bounce@${SHOP}`, to: ['customer@recipient.example'], data: msg.data }], { timeoutMs: 15_000 })
  t.equal(r?.final?.code, 250, `accepted: ${r?.final?.text}`)
  const m = h.delivered().filter((x) => x.get('Message-ID')[0] === msg.messageId)
  t.equal(m.length, 1, 'delivered once')
  t.notMatch(h.output(), /DNS-GUARD/, 'DNS stayed on loopback')
  t.match(h.output(), /\[spf\].*identity=mfrom.*result=Pass/i, 'haraka-plugin-spf checked the sender: pass')
  t.match(h.output(), /\[dkim\].*domain="shop\.example".*result=pass/, 'haraka-plugin-dkim verified the signature: pass')
  t.notMatch(h.output(), /\[(ERROR|CRIT)\].*\[(spf|dkim|shop-notice)\]/, 'no plugin error')
  return { m: m[0], log: h.output() }
}

t.test("authserv_id empty (= me): one header, each method once, ours", async (t) => {
  const { m } = await deliver(t, '[main]\nauthserv_id=\n')
  if (!m) return
  const ars = m.get('Authentication-Results')
  t.equal(ars.length, 1, 'exactly one Authentication-Results')
  t.same(m.get('Original-Authentication-Results'), [], 'and no renamed copy')
  const v = ars[0] ?? ''
  t.equal(authservIdOf(v), ME)
  t.same(methods(v), { spf: 1, dkim: 1, dmarc: 1, arc: 1 }, `spf, dkim, dmarc, arc once each: ${v}`)
  t.match(v, /spf=pass.*dkim=pass.*dmarc=pass.*arc=none/)
  t.match(m.get('X-Shop-Notice')[0], /^verified; brand=testshop;/)
  t.comment(`as delivered:\n${ars.map((x) => `Authentication-Results: ${x}`).join('\n')}`)
})

t.test('another authserv_id: one header per authserv-id, none repeating a method', async (t) => {
  const { m } = await deliver(t, '[main]\nauthserv_id=shop-notice.test.example\n')
  if (!m) return
  const ars = m.get('Authentication-Results')
  const ids = ars.map(authservIdOf)
  t.same([...ids].sort(), [ME, 'shop-notice.test.example'], `one header each: ${ids.join(', ')}`)
  for (const v of ars) {
    const counts = methods(v)
    t.ok(Object.values(counts).every((n) => n === 1), `no method twice under ${authservIdOf(v)}: ${JSON.stringify(counts)}`)
  }
  const core = ars.find((v) => authservIdOf(v) === ME) ?? ''
  t.same(methods(core), { spf: 1, dkim: 1 }, "core's header holds spf's and dkim's fragments")
  t.match(core, /spf=pass smtp\.mailfrom=shop\.example/)
  t.match(core, /dkim=pass .*header\.d=shop\.example/)
  const ours = ars.find((v) => authservIdOf(v) === 'shop-notice.test.example') ?? ''
  t.same(methods(ours), { spf: 1, dkim: 1, dmarc: 1, arc: 1 })
  t.comment(`as delivered:\n${ars.map((x) => `Authentication-Results: ${x}`).join('\n')}`)
})
