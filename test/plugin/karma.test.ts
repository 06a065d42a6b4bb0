/**
 * docs/karma.md's `[result_awards]` lines against the real haraka-plugin-karma:
 * the lines are taken from the document, written into an admin's karma.ini and
 * loaded through haraka-config by karma's own register(); shop-notice scans
 * messages through haraka-test-fixtures (loopback DNS), the result store publishes
 * what it recorded (a stand-in for Redis catches the JSON), and karma's own
 * check_result() scores it as its Redis subscription would.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { PACKAGE_ROOT } from '../../dist/src/config/sources.js'
import { loadMessage } from '../helpers/haraka-txn'
import { makeMessage, mailbox } from '../helpers/messages'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures')

const AUTHSERV = 'mx.test.example'
const SHOP_IP = '192.0.2.10' // the only address testshop.jp's SPF allows
const OTHER_IP = '203.0.113.5'

/** The `[result_awards]` block of docs/karma.md's first ini example, as written there. */
function docAwards(): string {
  const doc = fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', 'karma.md'), 'utf8')
  const block = /```ini\n(\[result_awards\]\n[\s\S]*?)```/.exec(doc)?.[1]
  if (!block) throw new Error('docs/karma.md: no ```ini block starting with [result_awards]')
  return block
}

let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: [`v=spf1 ip4:${SHOP_IP} -all`], a: [SHOP_IP] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
    'plain.example': { txt: [`v=spf1 ip4:${OTHER_IP} -all`] },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

const tmp = (t: Test): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-karma-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'config'))
  return dir
}

function shopNotice(t: Test, ini = '') {
  const dir = tmp(t)
  fs.writeFileSync(
    path.join(dir, 'config', 'shop-notice.ini'),
    `[main]\nauthserv_id=${AUTHSERV}\n[dns]\nservers=127.0.0.1:${dnsPort}\ntimeout_ms=300\nmessage_timeout_ms=1500\n[actions]\nmode=quarantine\n${ini}`,
  )
  fs.writeFileSync(
    path.join(dir, 'config', 'shop-notice.retailers.yaml'),
    'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n',
  )
  const plugin = fixtures.makePlugin('shop-notice', { register: false })
  plugin.config = plugin.config.module_config(PACKAGE_ROOT, dir)
  plugin.register()
  return plugin
}

/** The real karma plugin, its config the package's karma.ini with an admin's karma.ini (the doc's lines) over it. */
function karma(t: Test, awards: string) {
  const dir = tmp(t)
  fs.writeFileSync(path.join(dir, 'config', 'karma.ini'), awards)
  const plugin = new fixtures.plugin('haraka-plugin-karma')
  plugin.config = plugin.config.module_config(path.dirname(require.resolve('haraka-plugin-karma/package.json')), dir)
  plugin.register()
  return plugin
}

interface Published {
  channel: string
  message: string
}

/** Runs one message through shop-notice; returns what the result store published, and the connection. */
async function scan(plugin: unknown, raw: Buffer, ip: string, mailFrom: string) {
  const conn = fixtures.makeConnection({ ip, helo: 'client.example', mailFrom, rcptTo: ['user@example.net'] })
  conn.transaction.uuid = `${conn.uuid}.1` // as Haraka names a connection's first transaction
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  const published: Published[] = []
  // haraka-plugin-redis's client, as far as the result store uses it
  conn.server = { ...(conn.server ?? {}), notes: { redis: { publish: async (channel: string, message: string) => void published.push({ channel, message }) } } }
  await loadMessage(conn.transaction, raw)
  await fixtures.callDataPost(plugin, conn)
  return { conn, published }
}

const notice = () =>
  makeMessage({ from: mailbox('テストショップ', 'notice@testshop.jp'), subject: '【テストショップ】ご入金確認', body: 'ご入金を確認しました。\nご注文番号: 1234\n' })
const plain = () => makeMessage({ from: 'Hanako <hanako@plain.example>', subject: 'Lunch on Friday?', body: 'Shall we meet at noon?\n' })

/** Karma's score for the connection after it has seen what shop-notice published. */
function karmaScore(t: Test, k: ReturnType<typeof karma>, conn: ReturnType<typeof fixtures.makeConnection>, published: Published[]) {
  conn.results.add(k, { score: 0 }) // what karma's connect_init hook starts a connection with
  const ours = published.filter((p) => JSON.parse(p.message).plugin === 'shop-notice')
  t.equal(ours.length, 1, 'shop-notice published one result')
  // karma subscribes to `result-<connection uuid>*` (haraka-plugin-redis get_redis_sub_channel)
  const pattern = k.get_redis_sub_channel(conn) as string
  t.ok(pattern.endsWith('*') && ours[0]!.channel.startsWith(pattern.slice(0, -1)), `published on ${ours[0]?.channel}, which karma's ${pattern} receives`)
  for (const p of ours) k.check_result(conn, p.message)
  const r = conn.results.get('karma')
  return { score: Number(r.score), awards: (r.awards ?? []) as string[], result: JSON.parse(ours[0]!.message).result }
}

t.test("the doc's lines load into karma", async (t) => {
  const k = karma(t, docAwards())
  const ours = k.result_awards['shop-notice']
  t.ok(ours, 'karma has awards for shop-notice')
  const lines = Object.values(ours).flat() as { id: string; operator: string; award: string; value: string }[]
  t.same(lines.map((l) => l.id).sort(), ['shop_notice_far_gone', 'shop_notice_spoofed', 'shop_notice_suspicious', 'shop_notice_verified'])
  for (const l of lines) {
    t.ok(['equals', 'match', 'gt', 'lt'].includes(l.operator), `${l.id}: a karma operator`)
    t.ok(Number.isInteger(Number(l.award)), `${l.id}: an integer award`)
  }
  t.same(Object.keys(ours).sort(), ['score', 'verdict'], 'they score properties shop-notice records')
})

t.test('karma scores what shop-notice records, by verdict', async (t) => {
  const sn = shopNotice(t)
  const k = karma(t, docAwards())

  const spoof = await scan(sn, notice(), OTHER_IP, 'notice@testshop.jp')
  const s = karmaScore(t, k, spoof.conn, spoof.published)
  t.match(s.result, { fail: 'spoofed(testshop)', verdict: 'spoofed', action: 'quarantine' }, 'the published result')
  t.ok(s.result.score >= 10 && s.result.score <= 20, `a spoof scoring ${s.result.score}`)
  t.equal(s.score, -4, 'a spoof costs 4 karma points')
  t.same(s.awards, ['shop_notice_spoofed'])

  const genuine = await scan(sn, notice(), SHOP_IP, 'notice@testshop.jp')
  const g = karmaScore(t, k, genuine.conn, genuine.published)
  t.match(g.result, { pass: 'verified(testshop)', verdict: 'verified', action: 'accept' })
  t.equal(g.score, 1, 'an authenticated notice earns 1')
  t.same(g.awards, ['shop_notice_verified'])

  const other = await scan(sn, plain(), OTHER_IP, 'hanako@plain.example')
  const o = karmaScore(t, k, other.conn, other.published)
  t.match(o.result, { pass: 'none(-)', verdict: 'none' })
  t.equal(o.score, 0, 'a plain message: no award')
})

t.test('suspicious, and a spoof far past the threshold', async (t) => {
  const k = karma(t, docAwards())
  const lenient = shopNotice(t, '[thresholds]\nsuspicious=5\nspoofed=100\nreject=100\n')
  const sus = await scan(lenient, notice(), OTHER_IP, 'notice@testshop.jp')
  const s = karmaScore(t, k, sus.conn, sus.published)
  t.match(s.result, { verdict: 'suspicious' })
  t.equal(s.score, -2)

  const harsh = shopNotice(t, '[scores]\nBRAND_NOT_AUTHENTICATED=20\n')
  const far = await scan(harsh, notice(), OTHER_IP, 'notice@testshop.jp')
  const f = karmaScore(t, k, far.conn, far.published)
  t.ok(f.result.score > 20, `scored ${f.result.score}`)
  t.equal(f.score, -6, 'spoofed and past 20: -4 and -2')
  t.same(f.awards.sort(), ['shop_notice_far_gone', 'shop_notice_spoofed'])
})
