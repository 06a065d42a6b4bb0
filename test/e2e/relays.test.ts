/**
 * End to end: two real Haraka relays sharing one real Redis ([store] backend=redis), a real
 * DNS server on loopback, genuine notices DKIM-signed by the shop's published key. What
 * relay A learned, relay B knows: a notice to x@ through A, then the same shop to x@
 * through B, is no first contact on B; a notice through B addressing someone else than the
 * name x@'s notices used is NOTICE_OTHER_ADDRESSEE; a spoof through A teaches B nothing.
 *
 * Without redis-server (`apt-get install redis-server`) the test is skipped, saying so; in
 * CI (CI=true) it fails instead. E2E_DEBUG=1 prints the stored header blocks.
 */
import crypto from 'node:crypto'
import { dkimSign } from 'mailauth'
import t, { type Test } from 'tap'

import { type Haraka, type StoredMessage, startHaraka } from '../helpers/haraka'
import { type RedisServer, redisSkipReason, startRedis } from '../helpers/redis-server'
import { sendMail } from '../helpers/smtp'

interface DnsFixture {
  readonly port: number
  close(): Promise<void>
}
// haraka-test-fixtures is untyped CommonJS
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures') as { dns: { start(zones: Record<string, unknown>): Promise<DnsFixture> } }

const AUTHSERV_ID = 'mx.test.example'
const SHOP = 'shop.example' // registered below as brand `testshop`
const SELECTOR = 'sel'
const GENUINE_IP = '127.0.0.1' // the only address shop.example's SPF allows
const ATTACKER_IP = '127.0.0.2'

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const PRIVATE_KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const DKIM_TXT = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`.match(/.{1,200}/g)!

const ZONES: Record<string, unknown> = {
  [SHOP]: { txt: [`v=spf1 ip4:${GENUINE_IP} -all`], a: ['127.0.0.1'] },
  [`${SELECTOR}._domainkey.${SHOP}`]: { txt: DKIM_TXT },
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
}

const RETAILERS = `retailers:
  testshop:
    names: [TestShop, テストショップ]
    sending_domains: [${SHOP}]
`

const relayIni = (dnsPort: number, redisPort: number): string => `[main]
authserv_id=${AUTHSERV_ID}

[dns]
servers=127.0.0.1:${dnsPort}
timeout_ms=600
message_timeout_ms=2000

[actions]
mode=quarantine

[store]
backend=redis
timeout_ms=1000

[redis]
host=127.0.0.1
port=${redisPort}
`

let seq = 0
/** An order confirmation from TestShop to `to`, greeting `name`, with `extra` at its end; DKIM-signed with the published key unless `forged`. */
async function order(to: string, name: string, extra = '', forged = false): Promise<{ data: Buffer; messageId: string }> {
  const messageId = `<relays.${process.pid}.${++seq}@${SHOP}>`
  const head = [
    `From: TestShop <order@${SHOP}>`,
    `To: ${to}`,
    `Subject: =?UTF-8?B?${Buffer.from('【テストショップ】ご注文確認').toString('base64')}?=`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
  ].join('\r\n')
  const body = `${name}\n\nテストショップをご利用いただき、ありがとうございます。\nご注文番号: TS-2026-00${seq}\nご請求金額: 3,980円\n${extra}`.replace(/\n/g, '\r\n')
  const data = Buffer.from(`${head}\r\n\r\n${body}`, 'utf8')
  const key = forged ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() : PRIVATE_KEY
  const sig = { signingDomain: SHOP, selector: SELECTOR, privateKey: key }
  const res = await dkimSign(data, { ...sig, signatureData: [sig] })
  return { data: Buffer.concat([Buffer.from(res.signatures), data]), messageId }
}

async function send(h: Haraka, msg: { data: Buffer }, to: string, ip = GENUINE_IP): Promise<number | undefined> {
  const [r] = await sendMail(h.port, [{ from: `bounce@${SHOP}`, to: [to], data: msg.data }], { localAddress: ip, timeoutMs: 15_000, helo: 'client.test' })
  return r?.final?.code
}

/** The stored copy of a message (delivered or held) and its X-Shop-Notice signals. */
function stored(t: Test, h: Haraka, messageId: string): { m?: StoredMessage; verdict: string; signals: string[] } {
  const m = [...h.delivered(), ...h.quarantined()].find((x) => x.get('Message-ID')[0] === messageId)
  t.ok(m, `stored: ${messageId}`)
  const v = m?.get('X-Shop-Notice')[0] ?? ''
  if (m && process.env.E2E_DEBUG) t.comment(m.raw.toString('utf8').split(/\r?\n\r?\n/, 1)[0] ?? '')
  const signals = /signals=([A-Z0-9_,-]+)/.exec(v)?.[1]?.split(',') ?? []
  return { m, verdict: v.split(';', 1)[0] ?? '', signals }
}

const skip = redisSkipReason()

t.test('two relays sharing one Redis share what they learned', { skip }, async (t) => {
  const dns = await fixtures.dns.start(ZONES)
  t.teardown(() => dns.close())
  const redis: RedisServer = await startRedis()
  t.teardown(() => redis.stop())
  const relay = async (): Promise<Haraka> => {
    const h = await startHaraka({
      layout: 'installed',
      dnsPort: dns.port,
      config: { 'shop-notice.ini': relayIni(dns.port, redis.port), 'shop-notice.retailers.yaml': RETAILERS },
      startTimeoutMs: 60_000,
    })
    t.teardown(() => h.stop())
    return h
  }
  const a = await relay()
  const b = await relay()

  // relay A: the shop's first notice to x@
  const first = await order('x@recipient.example', '山田 太郎 様')
  t.equal(await send(a, first, 'x@recipient.example'), 250)
  const onA = stored(t, a, first.messageId)
  t.equal(onA.verdict, 'verified')
  t.ok(onA.signals.includes('NOTICE_FIRST_CONTACT'), 'A: the first notice of testshop to x@')

  // relay B: the same shop to x@: A taught it
  const second = await order('x@recipient.example', '山田 太郎 様')
  t.equal(await send(b, second, 'x@recipient.example'), 250)
  const onB = stored(t, b, second.messageId)
  t.equal(onB.verdict, 'verified')
  t.notOk(onB.signals.includes('NOTICE_FIRST_CONTACT'), 'B: no first contact, A remembered it')
  t.notOk(onB.signals.includes('NOTICE_OTHER_ADDRESSEE'), 'B: the name A learned')

  // relay B: a notice to x@ addressing someone else, with that person's address and phone
  const misdirected = await order(
    'x@recipient.example',
    '佐藤 花子 様',
    '\n■お届け先\n佐藤 花子 様\n〒150-0001 東京都渋谷区神宮前1-2-3\n電話番号: 090-1234-5678\n',
  )
  t.equal(await send(b, misdirected, 'x@recipient.example'), 250)
  const mis = stored(t, b, misdirected.messageId)
  t.equal(mis.verdict, 'verified', 'informational signals: still verified, delivered')
  t.ok(mis.signals.includes('NOTICE_OTHER_ADDRESSEE'))
  t.ok(mis.signals.includes('NOTICE_PERSONAL_DATA'))
  t.notOk(mis.signals.includes('NOTICE_FIRST_CONTACT'))

  // relay A: a spoof to z@ (SPF fails, the DKIM key is not the shop's); relay B then sees the first genuine one
  const spoof = await order('z@recipient.example', '山田 太郎 様', '', true)
  t.equal(await send(a, spoof, 'z@recipient.example', ATTACKER_IP), 250, 'held in the quarantine, answered 250')
  const held = stored(t, a, spoof.messageId)
  t.equal(held.verdict, 'spoofed')
  t.notOk(held.signals.includes('NOTICE_FIRST_CONTACT'))
  const genuine = await order('z@recipient.example', '山田 太郎 様')
  t.equal(await send(b, genuine, 'z@recipient.example'), 250)
  t.ok(stored(t, b, genuine.messageId).signals.includes('NOTICE_FIRST_CONTACT'), 'the spoof through A taught nothing')

  // what Redis holds: hashes only, no address or name in the clear
  const keys = await redis.command('KEYS', '*')
  t.notMatch(keys, /recipient\.example|山田|testshop/, 'no address, name or brand in a key')
  t.match(keys, /shop-notice:secret/)
  for (const h of [a, b]) t.notMatch(h.output(), /DNS-GUARD/, 'no DNS query left the loopback fixture')
  for (const h of [a, b]) t.notMatch(h.output(), /store redis .* failed/, 'no store failure was logged')
})
