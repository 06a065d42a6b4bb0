/**
 * The state store in the plugin (docs/store.md): sqlite in the test's own Haraka folder,
 * genuine notices authenticated against a loopback DNS server (SPF pass, aligned DMARC).
 * First contact, a known sender, a spoof that teaches nothing, another addressee, several
 * recipients, a shop outside the registry, a store that fails (mail flows, nothing fires),
 * backend none, and a reload that changes the store.
 */
import fs from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'

import { loadMessage } from '../helpers/haraka-txn'
import { makePlugin as makeFixturePlugin } from '../helpers/plugin'
import { makeMessage, mailbox } from '../helpers/messages'
import { redisSkipReason, startRedis } from '../helpers/redis-server'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures')

const SHOP_IP = '192.0.2.10' // the only address testshop.jp's SPF allows
const SMALL_IP = '192.0.2.20' // small-shop.example, a shop outside the registry
const ATTACKER_IP = '203.0.113.66'

let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: [`v=spf1 ip4:${SHOP_IP} -all`], a: [SHOP_IP] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
    'small-shop.example': { txt: [`v=spf1 ip4:${SMALL_IP} -all`], a: [SMALL_IP] },
    '_dmarc.small-shop.example': { txt: ['v=DMARC1; p=none'] },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

const REGISTRY = 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPlugin = any
// DNS time limits generous enough for a loaded test machine: a DNS timeout would leave a notice unauthenticated
const makePlugin = (t: Test, ini = ''): { plugin: AnyPlugin; dir: string; rewrite(ini: string): void } => {
  const made = makeFixturePlugin<AnyPlugin>(t, { dnsPort, ini: `[dns]\ntimeout_ms=3000\nmessage_timeout_ms=8000\n${ini}`, registry: REGISTRY })
  return { ...made, rewrite: (text: string) => made.rewrite(`[dns]\ntimeout_ms=3000\nmessage_timeout_ms=8000\n${text}`) }
}

function connection(opts: { ip: string; mailFrom: string; rcptTo: string[] }) {
  const conn = fixtures.makeConnection({ ip: opts.ip, helo: 'client.example', mailFrom: opts.mailFrom, rcptTo: opts.rcptTo })
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  return conn
}

let seq = 0
const order = (greeting: string, extra = ''): Buffer =>
  makeMessage({
    from: mailbox('テストショップ', 'order@testshop.jp'),
    subject: '【テストショップ】ご注文確認',
    messageId: `<memory.${++seq}@testshop.jp>`,
    body: `${greeting}\n\nテストショップをご利用いただき、ありがとうございます。\nご注文番号: TS-2026-000${seq}\nご請求金額: 3,980円\n${extra}`,
  })

interface Outcome {
  rc?: number
  verdict: string
  signals: string[]
  options: Record<string, string[]>
  header: string
}

async function send(plugin: AnyPlugin, raw: Buffer, opts: { ip?: string; mailFrom?: string; rcptTo?: string[] } = {}): Promise<Outcome> {
  const conn = connection({ ip: opts.ip ?? SHOP_IP, mailFrom: opts.mailFrom ?? 'bounce@testshop.jp', rcptTo: opts.rcptTo ?? ['taro@example.net'] })
  await loadMessage(conn.transaction as never, raw)
  const r = await fixtures.callDataPost(plugin, conn)
  const note = conn.transaction.notes.shop_notice as { verdict: string; signals: { symbol: string; options: string[] }[] }
  return {
    rc: r.rc,
    verdict: note.verdict,
    signals: note.signals.map((s) => s.symbol),
    options: Object.fromEntries(note.signals.map((s) => [s.symbol, s.options])),
    header: conn.transaction.header.get_all('X-Shop-Notice')[0] ?? '',
  }
}

t.test('first contact fires once per sender and recipient; the verdict stays verified', async (t) => {
  const { plugin, dir } = makePlugin(t)
  const first = await send(plugin, order('山田 太郎 様'))
  t.equal(first.verdict, 'verified')
  t.ok(first.signals.includes('NOTICE_FIRST_CONTACT'), first.header)
  t.same(first.options.NOTICE_FIRST_CONTACT, ['testshop', 'recipients=1/1'])
  t.notOk(first.signals.includes('NOTICE_OTHER_ADDRESSEE'), 'a recipient with no known names has no other addressee')
  t.ok(fs.existsSync(path.join(dir, 'var', 'shop-notice.sqlite')), 'the file is in the Haraka folder, [store] path relative to it')

  const second = await send(plugin, order('山田 太郎 様'))
  t.equal(second.verdict, 'verified')
  t.notOk(second.signals.includes('NOTICE_FIRST_CONTACT'), second.header)
  t.notOk(second.signals.includes('NOTICE_OTHER_ADDRESSEE'), 'the same name')

  const other = await send(plugin, order('山田 太郎 様'), { rcptTo: ['hanako@example.net'] })
  t.ok(other.signals.includes('NOTICE_FIRST_CONTACT'), 'another recipient: its own first contact')
  t.equal(first.rc, undefined, 'mail flows')
})

t.test('a spoof neither fires nor teaches', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=monitor\n')
  const spoof = await send(plugin, order('山田 太郎 様'), { ip: ATTACKER_IP, rcptTo: ['jiro@example.net'] })
  t.equal(spoof.verdict, 'spoofed')
  t.notOk(spoof.signals.includes('NOTICE_FIRST_CONTACT'))
  const genuine = await send(plugin, order('山田 次郎 様'), { rcptTo: ['jiro@example.net'] })
  t.ok(genuine.signals.includes('NOTICE_FIRST_CONTACT'), 'the spoof taught nothing: the genuine notice is still the first')
  // a spoof addressing someone else is not called a misdirected notice either
  const spoof2 = await send(plugin, order('佐藤 花子 様'), { ip: ATTACKER_IP, rcptTo: ['jiro@example.net'] })
  t.notOk(spoof2.signals.includes('NOTICE_OTHER_ADDRESSEE'))
  const again = await send(plugin, order('山田 次郎 様'), { rcptTo: ['jiro@example.net'] })
  t.notOk(again.signals.includes('NOTICE_OTHER_ADDRESSEE'), 'the spoof did not add 佐藤 花子 to the known names')
})

t.test('another addressee: a name none of the earlier notices used', async (t) => {
  const { plugin } = makePlugin(t)
  await send(plugin, order('山田 太郎 様'), { rcptTo: ['box@example.net'] })
  const misdirected = await send(
    plugin,
    order('佐藤 花子 様', '\n■お届け先\n佐藤 花子 様\n〒150-0001 東京都渋谷区神宮前1-2-3\n電話番号: 090-1234-5678\n'),
    { rcptTo: ['box@example.net'] },
  )
  t.equal(misdirected.verdict, 'verified', 'informational: the verdict does not move')
  t.ok(misdirected.signals.includes('NOTICE_OTHER_ADDRESSEE'), misdirected.header)
  t.same(misdirected.options.NOTICE_OTHER_ADDRESSEE, ['testshop', 'recipients=1/1'], 'no name in the options')
  t.same(misdirected.options.NOTICE_PERSONAL_DATA, ['postal', 'phone'])
  t.notOk(misdirected.signals.includes('NOTICE_FIRST_CONTACT'))
  const spelled = await send(plugin, order('山田太郎さま'), { rcptTo: ['box@example.net'] })
  t.notOk(spelled.signals.includes('NOTICE_OTHER_ADDRESSEE'), 'another spelling of a known name')
  const none = await send(plugin, order('お客様'), { rcptTo: ['box@example.net'] })
  t.notOk(none.signals.includes('NOTICE_OTHER_ADDRESSEE'), 'a greeting without a name')
})

t.test('several recipients: a signal when it holds for any, options say for how many', async (t) => {
  const { plugin } = makePlugin(t)
  await send(plugin, order('山田 太郎 様'), { rcptTo: ['a@example.net'] })
  const r = await send(plugin, order('山田 太郎 様'), { rcptTo: ['a@example.net', 'b@example.net'] })
  t.same(r.options.NOTICE_FIRST_CONTACT, ['testshop', 'recipients=1/2'])
  const both = await send(plugin, order('山田 太郎 様'), { rcptTo: ['a@example.net', 'b@example.net'] })
  t.notOk(both.signals.includes('NOTICE_FIRST_CONTACT'), 'both taught by the message before')
})

t.test('a shop outside the registry is remembered by its authenticated organisational domain', async (t) => {
  const { plugin } = makePlugin(t)
  const small = (): Buffer =>
    makeMessage({
      from: mailbox('Small Shop', 'orders@mail.small-shop.example'),
      subject: 'Your order confirmation',
      messageId: `<small.${++seq}@small-shop.example>`,
      body: 'Dear Taro Yamada,\n\nThank you for your order.\nOrder number: SS-10042\nTotal: $39.80\n',
    })
  const first = await send(plugin, small(), { ip: SMALL_IP, mailFrom: 'bounce@small-shop.example' })
  t.equal(first.verdict, 'notice')
  t.same(first.options.NOTICE_FIRST_CONTACT, ['small-shop.example', 'recipients=1/1'])
  const second = await send(plugin, small(), { ip: SMALL_IP, mailFrom: 'bounce@small-shop.example' })
  t.notOk(second.signals.includes('NOTICE_FIRST_CONTACT'))
  // unauthenticated (SPF fails, DMARC fails): not recalled, not learned
  const forged = await send(plugin, small(), { ip: ATTACKER_IP, mailFrom: 'bounce@small-shop.example', rcptTo: ['new@example.net'] })
  t.notOk(forged.signals.includes('NOTICE_FIRST_CONTACT'))
  const real = await send(plugin, small(), { ip: SMALL_IP, mailFrom: 'bounce@small-shop.example', rcptTo: ['new@example.net'] })
  t.ok(real.signals.includes('NOTICE_FIRST_CONTACT'), 'the forged one taught nothing')
})

t.test('a store that fails: nothing fires, mail flows, the failure is counted', async (t) => {
  // the store's folder would be a file: it cannot be made
  const { plugin, dir } = makePlugin(t, '[store]\npath=config/shop-notice.ini/memory.sqlite\n')
  const r = await send(plugin, order('山田 太郎 様', '\n■お届け先\n〒150-0001 東京都渋谷区神宮前1-2-3\n'))
  t.equal(r.rc, undefined)
  t.equal(r.verdict, 'verified')
  t.notOk(r.signals.includes('NOTICE_FIRST_CONTACT'))
  t.notOk(r.signals.includes('NOTICE_OTHER_ADDRESSEE'))
  t.ok(r.signals.includes('NOTICE_PERSONAL_DATA'), 'what the message itself shows still counts')
  const failures = plugin.shopNoticeStore.store.failures()
  t.ok(failures.open + failures.recall > 0, `counted: ${JSON.stringify(failures)}`)
  t.notOk(fs.existsSync(path.join(dir, 'var', 'shop-notice.sqlite')))
})

t.test('backend none: nothing remembered, nothing asked', async (t) => {
  const { plugin, dir } = makePlugin(t, '[store]\nbackend=none\n')
  const r = await send(plugin, order('山田 太郎 様'))
  t.equal(r.verdict, 'verified')
  t.notOk(r.signals.includes('NOTICE_FIRST_CONTACT'))
  t.notOk(fs.existsSync(path.join(dir, 'var')), 'no file made')
})

t.test('a reload reopens the store only when [store] or [redis] changed', async (t) => {
  const { plugin, rewrite } = makePlugin(t, '[store]\npath=var/a.sqlite\n')
  // haraka-config watches the file and calls the reload callback when it changes
  const reloaded = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const load = plugin.load_shop_notice_config
      const timer = setTimeout(() => reject(new Error('no reload within 10 s')), 10_000)
      plugin.load_shop_notice_config = function (this: unknown) {
        load.call(this, true)
        plugin.load_shop_notice_config = load
        clearTimeout(timer)
        resolve()
      }
    })
  const a = plugin.shopNoticeStore.store
  await send(plugin, order('山田 太郎 様'))
  let next = reloaded()
  rewrite('[store]\npath=var/a.sqlite\n[actions]\nmode=tag\n')
  await next
  t.equal(plugin.shopNotice.settings.actions.mode, 'tag')
  t.equal(plugin.shopNoticeStore.store, a, 'same store settings: same handle')
  next = reloaded()
  rewrite('[store]\npath=var/b.sqlite\n')
  await next
  t.not(plugin.shopNoticeStore.store, a, 'a new path: a new handle')
  const r = await send(plugin, order('山田 太郎 様'))
  t.ok(r.signals.includes('NOTICE_FIRST_CONTACT'), 'the new file remembers nothing yet')
  const b = plugin.shopNoticeStore.store
  next = reloaded()
  rewrite('[store]\nbackend=nonsense\n')
  await next
  t.equal(plugin.shopNoticeStore.store, b, 'an invalid [store] is refused, the last good store stays')
})

t.test('a hung Redis delays mail by [store] timeout_ms at most, and nothing fires', { skip: redisSkipReason() }, async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const { plugin } = makePlugin(t, `[store]\nbackend=redis\ntimeout_ms=150\n[redis]\nhost=127.0.0.1\nport=${redis.port}\n`)
  t.ok(await plugin.shopNoticeStore.store.ready(5000), 'connected')
  const first = await send(plugin, order('山田 太郎 様'), { rcptTo: ['hung@example.net'] })
  t.ok(first.signals.includes('NOTICE_FIRST_CONTACT'), 'answered while Redis answers')
  redis.pause()
  t.teardown(() => redis.resume())
  const t0 = performance.now()
  const r = await send(plugin, order('山田 太郎 様'), { rcptTo: ['new@example.net', 'other@example.net'] })
  const ms = performance.now() - t0
  t.equal(r.rc, undefined, 'mail flows')
  t.equal(r.verdict, 'verified')
  t.notOk(r.signals.includes('NOTICE_FIRST_CONTACT'), 'no answer: no signal')
  // recall (150 ms, recipients side by side) + learn (150 ms) + the scan itself
  t.ok(ms < 1500, `the hook took ${Math.round(ms)} ms`)
  const failures = plugin.shopNoticeStore.store.failures()
  t.ok(failures.recall >= 2 && failures.learn >= 2, `recall and learn failures counted: ${JSON.stringify(failures)}`)
})
