/**
 * SENDER_NAME_RECIPIENT_DOMAIN in the live plugin: the recipients it compares the display name
 * with are the envelope's (RCPT TO, `transaction.rcpt_to`), not the headers', which the sender
 * writes. DNS is a real loopback server: the sender's own domain passes SPF, as a lure's does.
 */
import t, { type Test } from 'tap'

import { loadMessage } from '../helpers/haraka-txn'
import { makePlugin as makeFixturePlugin } from '../helpers/plugin'
import { makeMessage, mailbox } from '../helpers/messages'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures')

let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'mbx-services.net': { txt: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    'client.example': { a: ['203.0.113.5'] },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const makePlugin = (t: Test) => makeFixturePlugin<any>(t, { dnsPort, ini: '[actions]\nmode=tag\nsubject_prefix=[!]\n' })

/** The lure: the recipient's domain as the display name, from the attacker's own domain, a link elsewhere. */
const lure = (to: string): Buffer =>
  makeMessage({
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to,
    subject: 'Mailbox storage almost full',
    body: 'Your mailbox has reached its quota. Increase storage now: https://quota-restore-site.net/increase\n',
  })

async function send(plugin: unknown, rcptTo: string[], raw: Buffer) {
  const conn = fixtures.makeConnection({ ip: '203.0.113.5', helo: 'client.example', mailFrom: 'helpdesk@mbx-services.net', rcptTo })
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  await loadMessage(conn.transaction, raw)
  await fixtures.callDataPost(plugin, conn)
  const notes = conn.transaction.notes as { shop_notice: { verdict: string; signals: { symbol: string; options: string[] }[] } }
  const hit = notes.shop_notice.signals.find((s) => s.symbol === 'SENDER_NAME_RECIPIENT_DOMAIN')
  return { verdict: notes.shop_notice.verdict, hit, header: conn.transaction.header.get_all('X-Shop-Notice')[0] as string }
}

t.test('the envelope recipient\'s domain, named in the display name: suspicious, whatever the To header says', async (t) => {
  const { plugin } = makePlugin(t)
  const r = await send(plugin, ['jane@example.com'], lure('undisclosed-recipients:;'))
  t.equal(r.verdict, 'suspicious', 'at least suspicious')
  t.same(r.hit?.options.slice(0, 3), ['example.com', 'via=domain', 'from=mbx-services.net'])
  t.match(r.header, /signals=[^;]*SENDER_NAME_RECIPIENT_DOMAIN/)
})

t.test('one of several envelope recipients is enough', async (t) => {
  const { plugin } = makePlugin(t)
  const r = await send(plugin, ['bob@othercorp.net', 'jane@example.com'], lure('bob@othercorp.net'))
  t.ok(r.hit, 'fires for jane@example.com')
})

t.test('the relay believes its envelope, not the headers: To names example.com, RCPT TO another domain', async (t) => {
  const { plugin } = makePlugin(t)
  const r = await send(plugin, ['bob@othercorp.net'], lure('jane@example.com'))
  t.equal(r.hit, undefined, 'does not fire')
  t.not(r.verdict, 'suspicious')
})
