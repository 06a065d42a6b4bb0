/**
 * Haraka core keeps at most connection.ini [headers] max_lines (1,000) header lines and drops the
 * rest silently, answering 250. Through a real Haraka in the `npm start` layout (the repository's
 * own config/ and plugins/), such a message is refused 552 and nothing is stored; a message under
 * the limit is stored whole. A Haraka without the plugin shows what core does alone.
 */
import t from 'tap'

import { type DnsServer, startDnsServer } from '../helpers/dns-server'
import { type Haraka, startHaraka } from '../helpers/haraka'
import { sendMail } from '../helpers/smtp'

let dns: DnsServer
let withPlugin: Haraka
let coreOnly: Haraka

t.before(async () => {
  dns = await startDnsServer({})
  ;[withPlugin, coreOnly] = await Promise.all([
    startHaraka({ layout: 'repository', dnsPort: dns.port, config: { 'shop-notice.ini': `[dns]\nservers=127.0.0.1:${dns.port}\ntimeout_ms=300\nmessage_timeout_ms=1000\n` } }),
    startHaraka({ layout: 'repository', dnsPort: dns.port, config: { plugins: 'queue/quarantine\nmaildir\n' } }),
  ])
})
t.teardown(async () => {
  await Promise.all([withPlugin?.stop(), coreOnly?.stop()])
  await dns?.close()
})

/** A plain message whose header has `lines` lines: the usual fields and X-Pad fields to make up the count. */
const message = (lines: number, id: string): string => {
  const head = ['From: someone@sender.example', 'To: customer@recipient.example', 'Subject: many header lines', `Message-ID: <${id}@sender.example>`]
  for (let i = head.length; i < lines; i++) head.push(`X-Pad-${i}: ${i}`)
  return `${head.join('\r\n')}\r\n\r\nbody line\r\n`
}

const send = async (h: Haraka, data: string): Promise<{ code?: number; text?: string; stored: number; lastPad: boolean }> => {
  const before = new Set(h.delivered().map((m) => m.file))
  const [r] = await sendMail(h.port, [{ from: 'someone@sender.example', to: ['customer@recipient.example'], data }], { timeoutMs: 20_000 })
  const added = h.delivered().filter((m) => !before.has(m.file))
  const lastPad = /^X-Pad-(\d+):/m.exec(data.split('\r\n\r\n')[0]!.split('\r\n').at(-1)!)?.[0] ?? ''
  return { code: r?.final?.code, text: r?.final?.text, stored: added.length, lastPad: added.some((m) => m.raw.toString('latin1').includes(`\n${lastPad}`)) }
}

t.test('core alone: past 1,000 header lines the rest is dropped and the client hears 250 (what is guarded against)', async (t) => {
  const r = await send(coreOnly, message(1200, 'core-1200'))
  t.equal(r.code, 250)
  t.equal(r.stored, 1)
  t.equal(r.lastPad, false, 'the last header lines are not in the stored message')
})

t.test('npm start layout: a header of 1,000 or more lines is refused 552 5.3.4, nothing stored', async (t) => {
  for (const lines of [1000, 1200, 5000]) {
    const r = await send(withPlugin, message(lines, `guard-${lines}`))
    t.equal(r.code, 552, `${lines} header lines: 552`)
    t.match(r.text, /5\.3\.4 .*header too long/i)
    t.equal(r.stored, 0, 'nothing stored')
  }
  t.match(withPlugin.output(), /refused: 1000 header lines kept of more, at connection\.ini \[headers\] max_lines=1000/)
})

t.test('npm start layout: 990 header lines pass, stored whole', async (t) => {
  // core's own Received field (fed in as data, folded on 2-3 lines) counts against the same limit
  const r = await send(withPlugin, message(990, 'guard-990'))
  t.equal(r.code, 250, JSON.stringify(r))
  t.equal(r.stored, 1)
  t.equal(r.lastPad, true, 'the last header line is stored')
})
