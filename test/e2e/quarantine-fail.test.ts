/**
 * A quarantine that cannot be written, through a real Haraka: its folder lies below a
 * regular file, so the day folder cannot be made (ENOTDIR, for root too, as a full disk or
 * a quota would fail it). A spoof is then deferred (451), neither delivered nor half held,
 * Haraka keeps running and answers the next message; once the folder can be made, the
 * next spoof is held whole. (Core queue/quarantine, in the same place, delivered the spoof
 * and then crashed Haraka: "Cannot pipe while currently piping".)
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'

import { type Haraka, startHaraka } from '../helpers/haraka'
import { sendMail } from '../helpers/smtp'

const fixtures = require('haraka-test-fixtures') as {
  dns: { start(zones: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }> }
}

const SHOP = 'shop.example'
const ZONES = {
  [SHOP]: { txt: ['v=spf1 ip4:192.0.2.10 -all'], a: ['192.0.2.10'] },
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
}

let seq = 0
const message = (subject: string, body: string, from = `TestShop <order@${SHOP}>`): { data: Buffer; messageId: string } => {
  const messageId = `<qfail.${process.pid}.${++seq}@test.example>`
  const head = [`From: ${from}`, 'To: customer@recipient.example', `Subject: ${subject}`, 'Date: Thu, 21 May 2026 10:00:00 +0000', `Message-ID: ${messageId}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8']
  return { data: Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'utf8'), messageId }
}
/** an order notice of the test brand from an address its SPF (-all) and DMARC (p=reject) refuse */
const spoof = () => message('Your TestShop order confirmation', 'Thank you for your order at TestShop.\r\nOrder number: TS-2026-0001234\r\nTotal: 39.80 EUR\r\n')
/** personal mail from a domain of no brand, with no DNS at all: nothing to hold */
const plain = () => message('lunch', 'See you at noon.\r\n', 'Friend <friend@home.example>')

let dns: { port: number; close(): Promise<void> }
let h: Haraka
let blocker: string

t.before(async () => {
  dns = await fixtures.dns.start(ZONES)
  h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      'shop-notice.ini': `[main]\nauthserv_id=mx.test.example\n[dns]\nservers=127.0.0.1:${dns.port}\ntimeout_ms=600\nmessage_timeout_ms=2000\n[actions]\nmode=quarantine\n`,
      'shop-notice.retailers.yaml': `retailers:\n  testshop:\n    names: [TestShop]\n    sending_domains: [${SHOP}]\n`,
      // below a regular file: the day folder cannot be made
      'quarantine.ini': 'quarantine_path=var/blocked/quarantine\n',
    },
    files: { 'var/blocked': 'a regular file, not a folder\n' },
  })
  blocker = path.join(h.dir, 'var', 'blocked')
})
t.teardown(async () => {
  await h?.stop()
  await dns?.close()
})

const send = async (data: Buffer, from = `bounce@${SHOP}`): Promise<number | undefined> => {
  const [r] = await sendMail(h.port, [{ from, to: ['customer@recipient.example'], data }], { localAddress: '127.0.0.2', helo: 'client.test', timeoutMs: 15_000 })
  return r?.final?.code
}
const deliveredWith = (messageId: string) => h.delivered().filter((m) => m.get('Message-ID')[0] === messageId)

t.test('the day folder cannot be made: 451, not delivered, Haraka answers the next message', async (t) => {
  const s = spoof()
  t.equal(await send(s.data), 451, 'the spoof is deferred')
  t.equal(deliveredWith(s.messageId).length, 0, 'not delivered')
  t.match(h.output(), /could not be held \(ENOTDIR/, 'the reason is logged')
  t.notMatch(h.output(), /Cannot pipe while currently piping|uncaught/i, 'no crash')
  t.ok(process.kill(h.pid, 0), 'Haraka is still running')

  const p = plain()
  t.equal(await send(p.data, 'friend@home.example'), 250, 'the next message is answered')
  t.equal(deliveredWith(p.messageId).length, 1, '... and delivered')
})

t.test('once the folder can be made, the next spoof is held whole, and only held', async (t) => {
  fs.rmSync(blocker)
  const s = spoof()
  t.equal(await send(s.data), 250)
  t.equal(deliveredWith(s.messageId).length, 0, 'not delivered')
  const base = path.join(blocker, 'quarantine')
  const days = fs.readdirSync(base).filter((d) => /^\d{8}$/.test(d))
  const files = days.flatMap((d) => fs.readdirSync(path.join(base, d)).map((f) => path.join(base, d, f)))
  const held = files.filter((f) => !f.endsWith('.json') && fs.readFileSync(f, 'utf8').includes(s.messageId))
  t.equal(held.length, 1, 'held once')
  t.match(fs.readFileSync(held[0]!, 'utf8'), /^X-Shop-Notice: spoofed;[^]*Total: 39\.80 EUR\n$/m, 'whole: our verdict on top, the body to its end')
  t.notOk(files.some((f) => f.endsWith('.tmp')), 'no temporary file left')
})
