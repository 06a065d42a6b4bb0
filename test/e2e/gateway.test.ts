/**
 * End to end through a real Haraka (installed mode, loopback DNS, SMTP): a notice relayed by
 * a trusted gateway (Haraka core renames its Authentication-Results before the plugin runs),
 * the same headers from another client, an ARC-sealed forward through a trusted and an
 * untrusted sealer, a spoof during an incident, and a recipient domain in monitor mode.
 */
import crypto from 'node:crypto'
import t, { type Test } from 'tap'
import { sealMessage } from 'mailauth'

import { type Haraka, type StoredMessage, startHaraka } from '../helpers/haraka'
import { type SendResult, sendMail } from '../helpers/smtp'

const fixtures = require('haraka-test-fixtures') as {
  dns: { start(zones: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }> }
}

const SHOP = 'shop.example'
const GATEWAY_IP = '127.0.0.3'
const OTHER_IP = '127.0.0.2'
const FORWARDER_IP = '127.0.0.4'
const GATEWAY_ID = 'mx.gateway.example'

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const keyTxt = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`.match(/.{1,200}/g)!

const ZONES: Record<string, unknown> = {
  [SHOP]: { txt: ['v=spf1 ip4:192.0.2.10 -all'], a: ['192.0.2.10'] }, // none of the test's addresses
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
  'arc._domainkey.forwarder.example': { txt: keyTxt },
  'arc._domainkey.stranger.example': { txt: keyTxt },
}

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)

const RETAILERS = `retailers:
  testshop:
    names: [TestShop, テストショップ]
    sending_domains: [${SHOP}]
    incidents:
      - { since: ${day(-3)}, days: 30, leaked: [card, email], note: "e2e leak" }
`

const ini = (dnsPort: number): string => `[main]
authserv_id=mx.test.example

[dns]
servers=127.0.0.1:${dnsPort}
timeout_ms=600
message_timeout_ms=2000

[actions]
mode=quarantine

[auth]
trusted_relays=${GATEWAY_IP}
trusted_authserv_ids=${GATEWAY_ID}
trusted_arc_sealers=forwarder.example

[policy.watch.example]
mode=monitor
`

let seq = 0
function notice(opts: { headers?: string[]; from?: string; subject?: string; body?: string } = {}): { id: string; raw: Buffer } {
  const id = `<e2e-gw-${++seq}-${crypto.randomUUID()}@test>`
  const raw = [
    ...(opts.headers ?? []),
    `From: ${opts.from ?? `TestShop <order@${SHOP}>`}`,
    'To: user@example.net',
    `Subject: ${opts.subject ?? 'Your order confirmation'}`,
    `Message-ID: ${id}`,
    'Date: Mon, 01 Jun 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Thank you for your order.\nOrder number: 1001-2002\nTotal: 2,000 JPY\n',
    '',
  ].join('\r\n')
  return { id, raw: Buffer.from(raw) }
}

async function send(h: Haraka, msg: { raw: Buffer }, ip: string, to = 'user@example.net'): Promise<SendResult> {
  const [r] = await sendMail(h.port, [{ from: `bounce@${SHOP}`, to: [to], data: msg.raw }], { localAddress: ip, helo: 'client.test' })
  return r!
}

function stored(t: Test, h: Haraka, id: string, where: 'delivered' | 'quarantined'): StoredMessage | undefined {
  const found = (where === 'delivered' ? h.delivered() : h.quarantined()).filter((m) => m.get('Message-ID')[0] === id)
  t.equal(found.length, 1, `${where} once`)
  return found[0]
}

const verdict = (m: StoredMessage): string => /^(\w+);/.exec(m.get('X-Shop-Notice')[0] ?? '')?.[1] ?? '-'
const signals = (m: StoredMessage): string => /signals=(\S*)/.exec(m.get('X-Shop-Notice')[0] ?? '')?.[1] ?? ''

async function forwarded(sealer: string): Promise<{ id: string; raw: Buffer }> {
  const msg = notice()
  const seal = await sealMessage(msg.raw, {
    signingDomain: sealer,
    selector: 'arc',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    authResults: `mx.${sealer}; spf=pass smtp.mailfrom=bounce@${SHOP}; dkim=pass header.d=${SHOP}; dmarc=pass header.from=${SHOP}`,
    cv: 'none',
  })
  return { id: msg.id, raw: Buffer.concat([seal, msg.raw]) }
}

t.test('gateways, ARC sealers, incidents and domain policies through a real Haraka', async (t) => {
  const dns = await fixtures.dns.start(ZONES)
  t.teardown(() => dns.close())
  const h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: { 'shop-notice.ini': ini(dns.port), 'shop-notice.retailers.yaml': RETAILERS },
  })
  t.teardown(() => h.stop())

  const gatewayPass = `Authentication-Results: ${GATEWAY_ID}; spf=pass smtp.mailfrom=bounce@${SHOP}; dkim=pass header.d=${SHOP}; dmarc=pass header.from=${SHOP}`

  t.test('a notice relayed by the trusted gateway is verified and delivered', async (t) => {
    const msg = notice({ headers: [gatewayPass] })
    const r = await send(h, msg, GATEWAY_IP)
    t.equal(r.final?.code, 250)
    const m = stored(t, h, msg.id, 'delivered')
    if (!m) return
    t.equal(verdict(m), 'verified', m.get('X-Shop-Notice')[0] ?? '')
    t.match(m.get('Original-Authentication-Results').join('\n'), GATEWAY_ID, 'core renamed the gateway\'s header; the plugin read it as received')
  })

  t.test('the same headers from another client are not trusted', async (t) => {
    const msg = notice({ headers: [gatewayPass] })
    const r = await send(h, msg, OTHER_IP)
    t.equal(r.final?.code, 250)
    const m = stored(t, h, msg.id, 'quarantined')
    if (m) t.equal(verdict(m), 'spoofed', m.get('X-Shop-Notice')[0] ?? '')
  })

  t.test('an ARC-forwarded notice is verified through the trusted sealer only', async (t) => {
    const trusted = await forwarded('forwarder.example')
    t.equal((await send(h, trusted, FORWARDER_IP)).final?.code, 250)
    const m = stored(t, h, trusted.id, 'delivered')
    if (m) {
      t.equal(verdict(m), 'verified', m.get('X-Shop-Notice')[0] ?? '')
      t.match(m.get('Authentication-Results').join('\n'), /arc=pass/)
    }
    const stranger = await forwarded('stranger.example')
    t.equal((await send(h, stranger, FORWARDER_IP)).final?.code, 250)
    const s = stored(t, h, stranger.id, 'quarantined')
    if (s) t.equal(verdict(s), 'spoofed', s.get('X-Shop-Notice')[0] ?? '')
  })

  t.test('during the incident, mail in the shop\'s name from elsewhere is held; a friend\'s mention is not', async (t) => {
    const spoof = notice({ from: `TestShop Support <care@help-desk.example>`, subject: 'A message for you', body: 'Please read the attached update.\n' })
    t.equal((await send(h, spoof, OTHER_IP)).final?.code, 250)
    const m = stored(t, h, spoof.id, 'quarantined')
    if (m) t.match(signals(m), /BRAND_INCIDENT/)
    const friend = notice({ from: 'Hanako <hanako@home.example>', subject: 'Did you see the news?', body: 'TestShop leaked card data, it seems. Take care!\n' })
    t.equal((await send(h, friend, OTHER_IP)).final?.code, 250)
    const f = stored(t, h, friend.id, 'delivered')
    if (f) {
      t.equal(verdict(f), 'none')
      t.notMatch(signals(f), /BRAND_INCIDENT/)
    }
  })

  t.test('a recipient domain in monitor mode gets the spoof delivered, with its verdict', async (t) => {
    const msg = notice({ headers: [gatewayPass] })
    t.equal((await send(h, msg, OTHER_IP, 'user@watch.example')).final?.code, 250)
    const m = stored(t, h, msg.id, 'delivered')
    if (m) t.equal(verdict(m), 'spoofed')
  })
})
