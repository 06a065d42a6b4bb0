/**
 * The Haraka boundary through haraka-test-fixtures: hooks, headers, results,
 * notes, actions, skip rules, config reload. DNS is a real loopback server.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { PACKAGE_ROOT } from '../../dist/src/config/sources.js'
import { loadMessage } from '../helpers/haraka-txn'
import { makePlugin as makeFixturePlugin } from '../helpers/plugin'
import { makeMessage, mailbox } from '../helpers/messages'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const constants = require('haraka-constants')

const AUTHSERV = 'mx.test.example'

let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: ['v=spf1 ip4:192.0.2.10 -all'], a: ['192.0.2.10'] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
    'client.example': { a: ['203.0.113.5'] },
    // a domain of no brand that publishes p=reject ([dmarc] enforce)
    'home.example': { txt: ['v=spf1 ip4:192.0.2.20 -all'] },
    '_dmarc.home.example': { txt: ['v=DMARC1; p=reject'] },
    'down.example': { drop: true },
    '_dmarc.down.example': { drop: true },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

// down.example is the brand's second domain, whose DNS is down
const REGISTRY = 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp, down.example]\n'

/** A plugin whose config is the package's, overridden by a temp folder's config/ (test/helpers/plugin.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const makePlugin = (t: Test, ini: string) => makeFixturePlugin<any>(t, { dnsPort, ini, registry: REGISTRY })

function connection(opts: { ip?: string; relaying?: boolean; isPrivate?: boolean; mailFrom?: string } = {}) {
  const conn = fixtures.makeConnection({
    ip: opts.ip ?? '203.0.113.5',
    helo: 'client.example',
    mailFrom: opts.mailFrom ?? 'notice@testshop.jp',
    rcptTo: ['user@example.net'],
  })
  if (opts.relaying) conn.relaying = true
  // Haraka sets remote.is_private from the address; the fixture connection does not
  if (opts.isPrivate) conn.remote.is_private = true
  // the fixture reads Haraka 3.2's smtp.ini [headers], without max_lines: without it every header line is dropped
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  return conn
}

const spoof = (extraHeaders: string[] = []) =>
  makeMessage({
    extraHeaders,
    from: mailbox('テストショップ', 'notice@testshop.jp'),
    subject: '【テストショップ】ご入金確認',
    body: 'ご入金を確認しました。\nご注文番号: 1234\n',
  })

async function run(plugin: unknown, conn: { transaction: unknown }, raw: Buffer) {
  await loadMessage(conn.transaction as never, raw)
  return fixtures.callDataPost(plugin, conn)
}

const header = (conn: { transaction: { header: { get_all(n: string): string[] } } }, name: string) => conn.transaction.header.get_all(name)

t.test('register: data_post is hooked and the configuration loaded', async (t) => {
  const { plugin } = makePlugin(t, '')
  t.ok(plugin.hooks.data_post?.includes('scan_message'))
  t.equal(plugin.shopNotice.settings.main.authserv_id, AUTHSERV)
  t.ok(plugin.shopNotice.settings.registry.brands.has('testshop'))
})

t.test('a spoof of a registered brand is quarantined, forged verdicts removed', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=quarantine\n')
  const conn = connection()
  const r = await run(
    plugin,
    conn,
    spoof([
      'X-Shop-Notice: verified; brand=testshop; kind=payment; score=-3; signals=-',
      'x-shop-notice: verified',
      `Authentication-Results: ${AUTHSERV}; dmarc=pass header.from=testshop.jp`,
      `Authentication-Results: ${AUTHSERV.toUpperCase()} (forged); spf=pass`,
      'Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=testshop.jp',
    ]),
  )
  t.equal(r.rc, undefined, 'continues to the queue (quarantine answers 250)')
  const verdicts = header(conn, 'X-Shop-Notice')
  t.equal(verdicts.length, 1, 'exactly one X-Shop-Notice: ours')
  t.match(verdicts[0], /^spoofed; brand=testshop; kind=payment; score=\d+(\.\d+)?; signals=[A-Z_,]*BRAND_NOT_AUTHENTICATED/)
  const ars = header(conn, 'Authentication-Results')
  const ours = ars.filter((v: string) => v.toLowerCase().startsWith(AUTHSERV))
  t.equal(ours.length, 1, 'one Authentication-Results with our authserv-id')
  t.match(ours[0], /spf=fail[\s\S]*dkim=none[\s\S]*dmarc=fail[\s\S]*arc=none/)
  t.ok(ars.some((v: string) => v.startsWith('mx.other.example')), 'another server\'s results are kept')
  t.equal(conn.transaction.notes.shop_notice_hold, true, 'to be held by the plugin (hold_message, queue_held)')
  t.notOk(conn.transaction.notes.quarantine, 'core queue/quarantine is not asked')
  t.equal(conn.transaction.notes.shop_notice.verdict, 'spoofed')
  const res = conn.transaction.results.get('shop-notice')
  t.match(res.fail, ['spoofed(testshop)'])
  t.equal(res.verdict, 'spoofed')
})

t.test('reject mode answers 5xx at the reject threshold', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=reject\nreject_message=Forged notice\n[thresholds]\nreject=10\n')
  const conn = connection()
  const r = await run(plugin, conn, spoof())
  t.equal(r.rc, constants.DENY)
  t.match(r.msg, { code: 550, reply: '5.7.1 Forged notice' }, 'a DSN: 550 5.7.1')
})

const forgedPersonal = () =>
  makeMessage({ from: mailbox('Hanako', 'hanako@home.example'), subject: 'Lunch on Friday?', body: 'Shall we meet at noon?\n' })

t.test('[dmarc] enforce: personal mail forged from a p=reject domain is refused in reject mode', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=reject\n[dmarc]\nenforce=true\n')
  const conn = connection({ mailFrom: 'hanako@home.example' })
  const r = await run(plugin, conn, forgedPersonal())
  t.equal(r.rc, constants.DENY)
  t.match(r.msg, { code: 550, reply: '5.7.1 Rejected by the DMARC policy of home.example' }, 'a DSN: 550 5.7.1, saying why')
  t.equal(conn.transaction.notes.shop_notice.verdict, 'none', 'the verdict is still none: the policy acted, not the verdict')
  t.equal(conn.transaction.notes.shop_notice.action_by, 'dmarc(p=reject)')
})

t.test('[dmarc] enforce: held in quarantine mode; off by default', async (t) => {
  const held = makePlugin(t, '[actions]\nmode=quarantine\n[dmarc]\nenforce=true\n').plugin
  const conn = connection({ mailFrom: 'hanako@home.example' })
  const r = await run(held, conn, forgedPersonal())
  t.equal(r.rc, undefined)
  t.equal(conn.transaction.notes.shop_notice_hold, true, 'held')

  const off = makePlugin(t, '[actions]\nmode=reject\n').plugin
  const conn2 = connection({ mailFrom: 'hanako@home.example' })
  const r2 = await run(off, conn2, forgedPersonal())
  t.equal(r2.rc, undefined, 'without [dmarc] enforce the policy is only a score')
  t.notOk(conn2.transaction.notes.shop_notice_hold)
  t.notOk(conn2.transaction.notes.shop_notice.action_by)
})

t.test('monitor mode only writes headers', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=monitor\n')
  const conn = connection()
  const r = await run(plugin, conn, spoof())
  t.equal(r.rc, undefined)
  t.match(header(conn, 'X-Shop-Notice')[0], /^spoofed;/)
  t.notOk(conn.transaction.notes.shop_notice_hold)
})

t.test('tag mode prefixes the subject when configured', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=tag\nsubject_prefix=[SPOOF?]\n')
  const conn = connection()
  await run(plugin, conn, spoof())
  t.match(header(conn, 'Subject')[0], /^\[SPOOF\?\] =\?UTF-8\?B\?/)
  t.notOk(conn.transaction.notes.shop_notice_hold)
})

t.test('relaying clients are not scanned but cannot carry a verdict', async (t) => {
  const { plugin } = makePlugin(t, '')
  const conn = connection({ relaying: true })
  const r = await run(plugin, conn, spoof(['X-Shop-Notice: verified; brand=testshop; kind=payment; score=0; signals=-']))
  t.equal(r.rc, undefined)
  t.same(header(conn, 'X-Shop-Notice'), [])
  t.match(conn.transaction.results.get('shop-notice').skip, ['relaying'])
})

t.test('private addresses are scanned by default, skipped with [skip] private_ip', async (t) => {
  const scanned = makePlugin(t, '')
  const c1 = connection({ ip: '10.1.2.3', isPrivate: true })
  await run(scanned.plugin, c1, spoof())
  t.equal(header(c1, 'X-Shop-Notice').length, 1)

  const skipping = makePlugin(t, '[skip]\nprivate_ip=true\n')
  const c2 = connection({ ip: '10.1.2.3', isPrivate: true })
  await run(skipping.plugin, c2, spoof())
  t.same(header(c2, 'X-Shop-Notice'), [])
})

t.test('a DNS failure defers a brand notice in quarantine mode, never a spoof verdict', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=quarantine\n')
  const conn = connection({ mailFrom: 'shop@down.example' })
  const msg = makeMessage({ from: mailbox('TestShop', 'shop@down.example'), subject: 'ご注文確認', body: 'ご注文ありがとうございます。\n' })
  const r = await run(plugin, conn, msg)
  t.equal(r.rc, constants.DENYSOFT)
  t.match(r.msg, { code: 451, reply: '4.4.3 Temporary DNS failure while authenticating the sender, try again later' })
  const v = header(conn, 'X-Shop-Notice')[0]
  t.notMatch(v, /^(spoofed|suspicious);/)
  t.match(v, /AUTH_DNS_TEMPFAIL/)
  t.match(header(conn, 'Authentication-Results')[0], /temperror/)
  t.notOk(conn.transaction.notes.shop_notice_hold)
})

t.test('an internal failure lets the message through with verdict error', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=reject\n')
  const conn = connection()
  await loadMessage(conn.transaction, spoof())
  conn.transaction.message_stream.get_data = () => {
    throw new Error('disk on fire')
  }
  const r = await fixtures.callDataPost(plugin, conn)
  t.equal(r.rc, undefined, 'never blocks mail')
  t.match(header(conn, 'X-Shop-Notice')[0], /^error; brand=-; kind=-; score=0; signals=-$/)
  t.match(conn.transaction.results.get('shop-notice').err, ['disk on fire'])
})

t.test('a live reload with a broken file keeps the last good configuration', async (t) => {
  const { plugin, rewrite, dir } = makePlugin(t, '[actions]\nmode=tag\n')
  const errors: string[] = []
  const infos: string[] = []
  const warnings: string[] = []
  plugin.logerror = (msg: string) => errors.push(msg)
  plugin.loginfo = (msg: string) => infos.push(msg)
  plugin.logwarn = (msg: string) => warnings.push(msg)
  const file = path.join(dir, 'config', 'shop-notice.ini')
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

  let next = reloaded()
  rewrite('[actions]\nmode=destroy\n')
  await next
  t.equal(plugin.shopNotice.settings.actions.mode, 'tag', 'the last good mode stays')
  t.match(errors.join('\n'), /last good one stays in force: .*shop-notice\.ini: \[actions\] mode: expected one of/)

  next = reloaded()
  rewrite('[actions]\nmode=monitor\n')
  await next
  t.equal(plugin.shopNotice.settings.actions.mode, 'monitor', 'a good file is taken')
  t.match(infos.join('\n'), /configuration reloaded: mode=monitor/)

  // a line haraka-config's reader skips: without a check of our own, mode would silently fall back to quarantine
  errors.length = 0
  next = reloaded()
  rewrite('[actions]\nmode: reject\n')
  await next
  t.equal(plugin.shopNotice.settings.actions.mode, 'monitor', 'a malformed line: the last good configuration stays')
  t.match(errors.join('\n'), new RegExp(`last good one stays in force: ${file.replace(/[.]/g, '\\.')}: line 8: not a section, key=value, comment or blank line: "mode: reject"`))

  // an emptied file: legitimate (defaults apply), but not silent
  next = reloaded()
  fs.writeFileSync(file, '; emptied\n')
  await next
  t.equal(plugin.shopNotice.settings.actions.mode, 'quarantine', 'the package default applies')
  t.equal(plugin.shopNotice.settings.main.authserv_id, '', 'every key the file set takes its default')
  t.match(warnings.join('\n'), new RegExp(`${file.replace(/[.]/g, '\\.')}: has no settings any more \\(it had 5\\): every key it set now takes its default`))
})

t.test('fragments other plugins gave core survive: merged under our id, or in core\'s own header', async (t) => {
  const { plugin } = makePlugin(t, '[actions]\nmode=monitor\n')
  const same = connection()
  same.local.host = AUTHSERV
  same.notes.authentication_results = ['iprev=pass policy.iprev=203.0.113.5', 'spf=pass smtp.mailfrom=other-plugin']
  await run(plugin, same, spoof())
  const ars = header(same, 'Authentication-Results')
  t.equal(ars.length, 1, 'one header under our id')
  t.match(ars[0], /^mx\.test\.example;\s+iprev=pass policy\.iprev=203\.0\.113\.5;\s+spf=fail/)
  t.notMatch(ars[0], /other-plugin/, 'our spf result is not repeated from another plugin')
  t.same(same.notes.authentication_results, [], 'core will not rewrite the header after data_post')

  const other = connection()
  other.local.host = 'core.host.example'
  other.transaction.notes.authentication_results = ['iprev=pass policy.iprev=203.0.113.5']
  await run(plugin, other, spoof())
  const ars2 = header(other, 'Authentication-Results')
  t.equal(ars2.length, 2)
  t.ok(ars2.some((v: string) => /^core\.host\.example;\s+iprev=pass/.test(v)), 'core\'s header, as core would have written it')
  t.ok(ars2.some((v: string) => /^mx\.test\.example;\s+spf=fail/.test(v)), 'ours')
  t.same(other.transaction.notes.authentication_results, [])
})

t.test('quarantine mode needs no core queue/quarantine: the plugin holds messages itself, before any queue plugin', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-plugin-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'plugins'), 'shop-notice\nqueue/smtp_forward\n')
  const plugin = fixtures.makePlugin('shop-notice', { register: false })
  plugin.config = plugin.config.module_config(PACKAGE_ROOT, dir)
  const warnings: string[] = []
  plugin.logwarn = (msg: string) => warnings.push(msg)
  plugin.register()
  t.same(warnings, [], 'nothing to warn about')
  t.ok(plugin.hooks.data_post.includes('hold_message') && plugin.hooks.queue.includes('queue_held'), 'its own writer and queue hook')
})

t.test('an invalid configuration at start-up is refused', async (t) => {
  t.throws(() => makePlugin(t, '[thresholds]\nsuspicious=20\n'), /\[thresholds\] spoofed: must be greater than suspicious/)
})

t.test('a malformed ini line at start-up is refused, naming the file and the line', async (t) => {
  t.throws(() => makePlugin(t, '[actions]\nmode reject\n'), /shop-notice\.ini: line 8: not a section, key=value, comment or blank line: "mode reject"/)
})

t.test('an empty admin ini at start-up is legitimate: the package defaults apply, without a warning', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-plugin-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'shop-notice.ini'), '')
  const plugin = fixtures.makePlugin('shop-notice', { register: false })
  plugin.config = plugin.config.module_config(PACKAGE_ROOT, dir)
  const warnings: string[] = []
  plugin.logwarn = (msg: string) => warnings.push(msg)
  plugin.load_shop_notice_config()
  t.equal(plugin.shopNotice.settings.actions.mode, 'quarantine')
  t.same(warnings, [])
})

t.test('an admin scores file overrides the shipped scores; a bad one is refused at start naming file and key', async (t) => {
  const files = { 'shop-notice.scores.yaml': 'scores:\n  AUTH_NONE: 7\n' }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { plugin } = makeFixturePlugin<any>(t, { dnsPort, ini: '[scores]\nSENDER_FREEMAIL=0\n', registry: REGISTRY, files })
  t.equal(plugin.shopNotice.settings.scores.AUTH_NONE, 7, 'the admin\'s score')
  t.equal(plugin.shopNotice.settings.scores.SENDER_FREEMAIL, 0, '[scores] of the ini')
  t.equal(plugin.shopNotice.settings.scores.BRAND_NOT_AUTHENTICATED, 6, 'the shipped score of the rest')
  t.throws(
    () => makeFixturePlugin(t, { dnsPort, registry: REGISTRY, files: { 'shop-notice.scores.yaml': 'scores:\n  AUTH_NOEN: 7\n' } }),
    /shop-notice\.scores\.yaml: scores\.AUTH_NOEN: unknown symbol/,
  )
})
