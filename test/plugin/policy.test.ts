/**
 * `[policy.<domain>]` in the live plugin: the recipients' domains choose mode and thresholds,
 * and a message to domains of different policies gets the weakest (docs/configuration.md).
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
    'testshop.jp': { txt: ['v=spf1 ip4:192.0.2.10 -all'], a: ['192.0.2.10'] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

const REGISTRY = 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n'
const INI = [
  '[actions]',
  'mode=quarantine',
  'subject_prefix=[!]',
  '[policy.watch.example]',
  'mode=monitor',
  '[policy.tagonly.example]',
  'mode=tag',
  '[policy.lenient.example]',
  'thresholds_suspicious=30',
  'thresholds_spoofed=40',
  'thresholds_reject=50',
  '',
].join('\n')
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const makePlugin = (t: Test) => makeFixturePlugin<any>(t, { dnsPort, ini: INI, registry: REGISTRY })

const spoof = makeMessage({
  from: mailbox('テストショップ', 'notice@testshop.jp'),
  subject: '【テストショップ】ご入金確認',
  body: 'ご入金を確認しました。\nご注文番号: 1234\n',
})

async function send(plugin: unknown, rcptTo: string[]) {
  const conn = fixtures.makeConnection({ ip: '203.0.113.5', helo: 'client.example', mailFrom: 'notice@testshop.jp', rcptTo })
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  await loadMessage(conn.transaction, spoof)
  await fixtures.callDataPost(plugin, conn)
  const notes = conn.transaction.notes as { shop_notice: { verdict: string; action: string }; shop_notice_hold?: boolean }
  return { verdict: notes.shop_notice.verdict, action: notes.shop_notice.action, quarantine: notes.shop_notice_hold === true, subject: conn.transaction.header.get_all('Subject')[0] as string }
}

t.test('each domain alone gets its own policy', async (t) => {
  const { plugin } = makePlugin(t)
  t.match(await send(plugin, ['a@elsewhere.example']), { verdict: 'spoofed', action: 'quarantine', quarantine: true })
  t.match(await send(plugin, ['a@watch.example']), { verdict: 'spoofed', action: 'accept', quarantine: false })
  t.match(await send(plugin, ['a@mail.watch.example']), { action: 'accept' }, 'a subdomain takes its parent\'s section')
  t.match(await send(plugin, ['a@tagonly.example']), { verdict: 'spoofed', action: 'tag', quarantine: false, subject: /^\[!\] / })
  t.match(await send(plugin, ['a@lenient.example']), { verdict: 'notice', action: 'accept' }, 'its thresholds decide the verdict')
})

t.test('recipients in domains of different policies: the weakest, never held for a monitor domain', async (t) => {
  const { plugin } = makePlugin(t)
  t.match(await send(plugin, ['a@elsewhere.example', 'b@watch.example']), { verdict: 'spoofed', action: 'accept', quarantine: false })
  t.match(await send(plugin, ['a@elsewhere.example', 'b@tagonly.example']), { action: 'tag', quarantine: false })
  t.match(await send(plugin, ['a@elsewhere.example', 'b@lenient.example']), { verdict: 'notice', action: 'accept' })
  t.match(await send(plugin, ['a@elsewhere.example', 'b@other.example']), { action: 'quarantine', quarantine: true }, 'the same policy twice')
})
