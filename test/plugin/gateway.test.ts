/**
 * Trusted gateways and ARC sealers in the live plugin (haraka-test-fixtures, loopback DNS):
 * a notice relayed by a trusted gateway is judged on the gateway's Authentication-Results as
 * received (Haraka core renames them before data_post: done here as core does it), the same
 * headers from any other client are not trusted; an ARC-sealed forward is judged on what its
 * sealer recorded only when the sealer is trusted.
 */
import crypto from 'node:crypto'
import t, { type Test } from 'tap'
import { sealMessage } from 'mailauth'

import { loadMessage } from '../helpers/haraka-txn'
import { makePlugin as makeFixturePlugin } from '../helpers/plugin'
import { makeMessage, mailbox } from '../helpers/messages'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures')

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 })
const keyRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`
const chunks = (s: string): string[] => s.match(/.{1,200}/g) ?? []

let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: ['v=spf1 ip4:192.0.2.10 -all'], a: ['192.0.2.10'] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
    'arc._domainkey.forwarder.example': { txt: chunks(keyRecord) },
    'arc._domainkey.other-forwarder.example': { txt: chunks(keyRecord) },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

const REGISTRY = 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n'
const GATEWAY_INI = '[auth]\ntrusted_relays=10.9.0.0/16, 2001:db8::7\ntrusted_authserv_ids=mx.gateway.example\n[actions]\nmode=monitor\n'
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const makePlugin = (t: Test, ini: string) => makeFixturePlugin<any>(t, { dnsPort, ini, registry: REGISTRY })

function connection(ip: string) {
  const conn = fixtures.makeConnection({ ip, helo: 'gw.example', mailFrom: 'notice@testshop.jp', rcptTo: ['user@example.net'] })
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  return conn
}

const notice = (extraHeaders: string[] = []) =>
  makeMessage({
    extraHeaders,
    from: mailbox('テストショップ', 'notice@testshop.jp'),
    subject: '【テストショップ】ご注文確認',
    body: 'ご注文ありがとうございます。\nご注文番号: 1001\nお支払い金額: 2,000円\n',
  })

/** DATA, then what Haraka core does before data_post (connection.js auth_results_clean), then the hook. */
async function run(plugin: unknown, conn: { transaction: { header: { get_all(n: string): string[] }; add_header(k: string, v: string): void; remove_header(k: string): void } }, raw: Buffer) {
  await loadMessage(conn.transaction as never, raw)
  const ars = conn.transaction.header.get_all('Authentication-Results')
  for (const v of ars) conn.transaction.add_header('Original-Authentication-Results', v)
  if (ars.length) conn.transaction.remove_header('Authentication-Results')
  return fixtures.callDataPost(plugin, conn)
}

const verdictOf = (conn: { transaction: { notes: Record<string, unknown> } }) =>
  (conn.transaction.notes.shop_notice as { verdict: string; signals: { symbol: string }[] }).verdict

const GATEWAY_PASS = 'Authentication-Results: mx.gateway.example; spf=pass smtp.mailfrom=notice@testshop.jp; dkim=pass header.d=testshop.jp; dmarc=pass header.from=testshop.jp'

t.test('a notice relayed by a trusted gateway is judged on the gateway\'s results', async (t) => {
  const { plugin } = makePlugin(t, GATEWAY_INI)
  for (const ip of ['10.9.3.4', '2001:db8::7', '::ffff:10.9.0.1']) {
    const conn = connection(ip)
    await run(plugin, conn, notice([GATEWAY_PASS]))
    t.equal(verdictOf(conn), 'verified', ip)
    t.match(conn.transaction.header.get_all('Authentication-Results')[0], /^mx\.test\.example;[\s\S]*dmarc=pass header\.from=testshop\.jp/, `${ip}: our header carries the gateway's results`)
  }
})

t.test('the same headers from any other client are not trusted', async (t) => {
  const { plugin } = makePlugin(t, GATEWAY_INI)
  const conn = connection('203.0.113.5')
  await run(plugin, conn, notice([GATEWAY_PASS]))
  t.equal(verdictOf(conn), 'spoofed', 'checked anew: SPF fails and DMARC p=reject')
})

t.test('a trusted gateway is not trusted without a trusted authserv-id, nor for another authserv-id', async (t) => {
  const { plugin } = makePlugin(t, '[auth]\ntrusted_relays=10.9.0.0/16\n[actions]\nmode=monitor\n')
  const conn = connection('10.9.3.4')
  await run(plugin, conn, notice([GATEWAY_PASS]))
  t.equal(verdictOf(conn), 'spoofed')
  const { plugin: other } = makePlugin(t, GATEWAY_INI)
  const conn2 = connection('10.9.3.4')
  await run(other, conn2, notice([GATEWAY_PASS.replace('mx.gateway.example', 'mx.elsewhere.example')]))
  t.equal(verdictOf(conn2), 'spoofed')
})

t.test('only the topmost header of the trusted authserv-id counts: one a sender wrote below it does not', async (t) => {
  const { plugin } = makePlugin(t, GATEWAY_INI)
  const conn = connection('10.9.3.4')
  const gatewayFail = 'Authentication-Results: mx.gateway.example; spf=fail smtp.mailfrom=notice@testshop.jp; dmarc=fail header.from=testshop.jp policy.dmarc=reject'
  await run(plugin, conn, notice([gatewayFail, GATEWAY_PASS]))
  t.equal(verdictOf(conn), 'spoofed')
})

t.test('a header a sender named Original-Authentication-Results is never read as the gateway\'s', async (t) => {
  const { plugin } = makePlugin(t, GATEWAY_INI)
  const conn = connection('10.9.3.4')
  await run(plugin, conn, notice([GATEWAY_PASS.replace(/^Authentication-Results/, 'Original-Authentication-Results')]))
  t.equal(verdictOf(conn), 'spoofed', 'no gateway result: checked anew, the gateway is not the brand\'s host')
})

/** The genuine notice as forwarded: the forwarder checked it, recorded its results, and sealed. */
async function forwarded(sealer: string): Promise<Buffer> {
  const original = notice()
  const sealHeaders = await sealMessage(original, {
    signingDomain: sealer,
    selector: 'arc',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    authResults: `mx.${sealer}; spf=pass smtp.mailfrom=notice@testshop.jp; dkim=pass header.d=testshop.jp; dmarc=pass header.from=testshop.jp`,
    cv: 'none',
  })
  return Buffer.concat([sealHeaders, original])
}

t.test('an ARC-sealed forward is verified only when its sealer is trusted', async (t) => {
  const { plugin: trusting } = makePlugin(t, '[auth]\ntrusted_arc_sealers=forwarder.example\n[actions]\nmode=monitor\n')
  const conn = connection('198.51.100.7')
  await run(trusting, conn, await forwarded('forwarder.example'))
  t.equal(verdictOf(conn), 'verified', 'the trusted sealer recorded an aligned pass')
  t.match(conn.transaction.header.get_all('Authentication-Results')[0], /arc=pass/)

  const untrustedSealer = connection('198.51.100.7')
  await run(trusting, untrustedSealer, await forwarded('other-forwarder.example'))
  t.equal(verdictOf(untrustedSealer), 'spoofed', 'a valid seal of a sealer not in the list vouches for nothing')

  const { plugin: plain } = makePlugin(t, '[actions]\nmode=monitor\n')
  const noList = connection('198.51.100.7')
  await run(plain, noList, await forwarded('forwarder.example'))
  t.equal(verdictOf(noList), 'spoofed', 'without trusted sealers, as before')
})

t.test('a broken seal vouches for nothing, even from a trusted sealer', async (t) => {
  const { plugin } = makePlugin(t, '[auth]\ntrusted_arc_sealers=forwarder.example\n[actions]\nmode=monitor\n')
  // a line added to the body after sealing: the ARC-Message-Signature's body hash no longer matches
  const raw = Buffer.concat([await forwarded('forwarder.example'), Buffer.from('Added after the seal.\r\n')])
  const conn = connection('198.51.100.7')
  await run(plugin, conn, raw)
  t.match(conn.transaction.header.get_all('Authentication-Results')[0], /arc=fail/)
  t.equal(verdictOf(conn), 'spoofed')
})
