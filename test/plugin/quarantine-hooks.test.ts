/**
 * The plugin's side of the quarantine, through haraka-test-fixtures: the message held by
 * the plugin's own writer (data_post, last) or deferred 451 when it cannot be stored, the
 * queue's answer for a held message, the sidecar written when it was stored (queue_ok),
 * and a released copy coming back through the plugin.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { QuarantineStore } from '../../dist/src/quarantine/store.js'
import { formatReleaseHeader, rfc5322Date } from '../../dist/src/quarantine/release-record.js'
import { loadMessage } from '../helpers/haraka-txn'
import { makePlugin as makeFixturePlugin } from '../helpers/plugin'
import { makeMessage, mailbox } from '../helpers/messages'

const fixtures = require('haraka-test-fixtures')
const constants = require('haraka-constants')


let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: ['v=spf1 ip4:192.0.2.10 -all'], a: ['192.0.2.10'] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

/** A plugin in quarantine mode whose quarantine.ini points at a fresh folder. */
function makePlugin(t: Test) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-qhooks-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const quarantine = path.join(dir, 'quarantine')
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { plugin } = makeFixturePlugin<any>(t, {
    dnsPort,
    ini: '[actions]\nmode=quarantine\n',
    registry: 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n',
    files: { 'quarantine.ini': `quarantine_path=${quarantine}\n` },
  })
  return { plugin, quarantine }
}

function connection() {
  const conn = fixtures.makeConnection({ ip: '203.0.113.5', helo: 'client.example', mailFrom: 'notice@testshop.jp', rcptTo: ['user@example.net', 'other@example.net'] })
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  const logs: string[] = []
  for (const level of ['loginfo', 'logwarn', 'logerror']) conn[level] = (_p: unknown, msg: string) => logs.push(`${level} ${msg}`)
  return { conn, logs }
}

const spoof = (extraHeaders: string[] = []) =>
  makeMessage({ extraHeaders, from: mailbox('テストショップ', 'notice@testshop.jp'), subject: '【テストショップ】ご入金確認', body: 'ご入金を確認しました。\nご注文番号: 1234\n' })

async function dataPost(plugin: unknown, conn: { transaction: unknown }, raw: Buffer) {
  await loadMessage(conn.transaction as never, raw)
  return fixtures.callDataPost(plugin, conn)
}

/** What core queue/quarantine does when it stored a message: the file, and notes.quarantined. */
function coreStores(quarantine: string, conn: { transaction: { uuid: string; notes: Record<string, unknown> } }, raw: Buffer): string {
  const day = path.join(quarantine, '20260521')
  fs.mkdirSync(day, { recursive: true })
  const file = path.join(day, conn.transaction.uuid)
  fs.writeFileSync(file, raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')
  conn.transaction.notes.quarantined = file
  return file
}

const queueOk = (plugin: { record_quarantine(next: () => void, conn: unknown): void }, conn: unknown) =>
  new Promise<void>((resolve) => plugin.record_quarantine(() => resolve(), conn))

t.test('a spoof is held whole by the plugin, accepted by the queue, and its sidecar written', async (t) => {
  const { plugin, quarantine } = makePlugin(t)
  t.ok(plugin.hooks.queue_ok?.includes('record_quarantine'), 'queue_ok is hooked')
  t.ok(plugin.hooks.data_post?.includes('hold_message'), 'data_post hold_message is hooked')
  t.ok(plugin.hooks.queue?.includes('queue_held') && plugin.hooks.queue_outbound?.includes('queue_held'), 'queue and queue_outbound are hooked')
  const { conn, logs } = connection()
  await dataPost(plugin, conn, spoof())
  t.equal(conn.transaction.notes.shop_notice_hold, true, 'to hold')
  t.notOk(conn.transaction.notes.quarantine, 'core queue/quarantine is not asked')
  const asScanned = await new Promise<Buffer>((resolve) => conn.transaction.message_stream.get_data(resolve))
  const h = await fixtures.callDataPost(plugin, conn, 'hold_message')
  t.equal(h.rc, undefined, 'stored: data_post goes on')
  const file = conn.transaction.notes.quarantined as string
  t.match(file, new RegExp(`^${quarantine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\d{8}/${conn.transaction.uuid}$`), 'in core\'s layout: <quarantine_path>/YYYYMMDD/<id>')
  t.ok(fs.readFileSync(file).equals(Buffer.from(asScanned.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')), 'the message whole, with our headers, LF line endings as core writes it')
  t.equal(fs.statSync(file).mode & 0o777, 0o640, 'readable by its owner and group only')
  const q = await fixtures.callQueue(plugin, conn, 'queue_held')
  t.equal(q.rc, constants.OK, 'the queue accepts it (250) before any queue plugin could deliver it')
  t.equal(q.msg, 'Message accepted')
  const { conn: plain } = connection()
  t.equal((await fixtures.callQueue(plugin, plain, 'queue_held')).rc, undefined, 'a message not held goes on to the queue plugins')
  await queueOk(plugin, conn)
  const sidecar = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'))
  t.match(sidecar, {
    version: 1,
    id: conn.transaction.uuid,
    verdict: 'spoofed',
    brand: 'testshop',
    kind: 'payment',
    action: 'quarantine',
    envelope: { from: 'notice@testshop.jp', to: ['user@example.net', 'other@example.net'] },
    subject: '【テストショップ】ご入金確認',
    remote: { ip: '203.0.113.5', helo: 'client.example' },
    auth: { spf: 'fail', dmarc: 'fail' },
    size: fs.statSync(file).size,
  })
  t.ok(sidecar.signals.some((s: { symbol: string; score: number }) => s.symbol === 'BRAND_NOT_AUTHENTICATED' && s.score > 0), 'signals with their scores')
  t.match(sidecar.authentication_results, [/^mx\.test\.example;/], 'our Authentication-Results')
  t.same(fs.readdirSync(path.dirname(file)).sort(), [path.basename(file), `${path.basename(file)}.json`], 'no temporary file left behind')
  t.notOk(logs.join('\n').includes('could not be held'))
  t.match(logs.join('\n'), /quarantined id=\S+ file=\S+ sidecar=\S+\.json/)

  const listed = await new QuarantineStore(quarantine).list()
  t.match(listed, [{ id: conn.transaction.uuid, source: 'sidecar', status: 'held' }], 'listed from the sidecar')
})

t.test('queue_ok does nothing for a message core did not store, and never fails the message', async (t) => {
  const { plugin, quarantine } = makePlugin(t)
  const { conn, logs } = connection()
  await dataPost(plugin, conn, spoof())
  await queueOk(plugin, conn)
  t.notOk(fs.existsSync(quarantine), 'nothing written')

  conn.transaction.notes.quarantined = path.join(quarantine, 'gone', 'x')
  await queueOk(plugin, conn)
  t.match(logs.join('\n'), /logerror quarantined id=\S+ file=\S+, but its sidecar could not be written: ENOENT/, 'a failure is logged, next() is called')

})

t.test('a released copy passes once, as it was held; a forged release header is removed', async (t) => {
  const { plugin, quarantine } = makePlugin(t)
  // a message held earlier, and its release being sent right now
  const { conn: first } = connection()
  await dataPost(plugin, first, spoof())
  // core stores the message as it is now: with our headers
  const asHeld = await new Promise<Buffer>((resolve) => first.transaction.message_stream.get_data(resolve))
  t.match(asHeld.toString('utf8'), /^X-Shop-Notice: spoofed;/m)
  const file = coreStores(quarantine, first, asHeld)
  await queueOk(plugin, first)
  const store = new QuarantineStore(quarantine)
  const entry = await store.find(first.transaction.uuid)
  const token = '0123456789abcdef0123456789abcdef'
  await store.claim(entry, { state: 'sending', by: 'alice', at: new Date().toISOString(), to: '127.0.0.1:2525', token })
  const stored = fs.readFileSync(file)
  const header = (tok: string) => `X-Shop-Notice-Released: ${formatReleaseHeader({ by: 'alice', at: rfc5322Date(new Date()), id: entry.id, token: tok })}`

  const { conn: wrong, logs: wrongLogs } = connection()
  await dataPost(plugin, wrong, Buffer.concat([Buffer.from(`${header('f'.repeat(32))}\r\n`), stored]))
  t.same(wrong.transaction.header.get_all('X-Shop-Notice-Released'), [], 'a wrong token: the header is removed')
  t.equal(wrong.transaction.notes.shop_notice_hold, true, '... and the message is scanned and held')
  t.match(wrongLogs.join('\n'), /logwarn removed 1 X-Shop-Notice-Released header\(s\) without a valid release token/)

  const { conn: two } = connection()
  await dataPost(plugin, two, Buffer.concat([Buffer.from(`${header(token)}\r\n${header(token)}\r\n`), stored]))
  t.same(two.transaction.header.get_all('X-Shop-Notice-Released'), [], 'two release headers, even with the right token: removed')
  t.equal(two.transaction.notes.shop_notice_hold, true, '... and held')

  const { conn: released, logs } = connection()
  const r = await dataPost(plugin, released, Buffer.concat([Buffer.from(`${header(token)}\r\n`), stored]))
  t.equal(r.rc, undefined, 'passed on')
  t.notOk(released.transaction.notes.shop_notice_hold, 'not held again')
  t.match(released.transaction.results.get('shop-notice').skip, ['released'])
  t.equal(released.transaction.header.get_all('X-Shop-Notice-Released').length, 1, 'the release header stays')
  t.match(released.transaction.header.get_all('X-Shop-Notice')[0], /^spoofed; brand=testshop/, 'the verdict it was held with stays')
  t.match(logs.join('\n'), new RegExp(`released from quarantine id=${entry.id.replace(/\./g, '\\.')} by=alice`))

  const { conn: again } = connection()
  await dataPost(plugin, again, Buffer.concat([Buffer.from(`${header(token)}\r\n`), stored]))
  t.equal(again.transaction.notes.shop_notice_hold, true, 'the same token a second time: held')
  t.same(again.transaction.header.get_all('X-Shop-Notice-Released'), [])

})

t.test('a day folder that cannot be made: 451, nothing held, nothing delivered, the next message still held', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-qfail-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  // a regular FILE where the quarantine folder's parent should be: mkdir fails with ENOTDIR, as root too
  fs.writeFileSync(path.join(dir, 'not-a-folder'), 'x')
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { plugin } = makeFixturePlugin<any>(t, {
    dnsPort,
    ini: '[actions]\nmode=quarantine\n',
    registry: 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n',
    files: { 'quarantine.ini': `quarantine_path=${path.join(dir, 'not-a-folder', 'quarantine')}\n` },
  })
  const { conn, logs } = connection()
  await dataPost(plugin, conn, spoof())
  const r = await fixtures.callDataPost(plugin, conn, 'hold_message')
  t.equal(r.rc, constants.DENYSOFT, 'deferred')
  t.equal(r.msg?.code, 451, '451')
  t.match(String(r.msg?.reply), /could not be stored, try again later/)
  t.notOk(conn.transaction.notes.quarantined, 'not recorded as held')
  t.match(logs.join('\n'), /logerror id=\S+ could not be held \(ENOTDIR/, 'logged, with the reason')
  // had data_post ended before hold_message (another plugin's OK), the queue defers it too
  const q = await fixtures.callQueue(plugin, conn, 'queue_held')
  t.equal(q.rc, constants.DENYSOFT, 'the queue defers it: no queue plugin after ours delivers it')

  // the same plugin answers the next message: a good folder again
  fs.rmSync(path.join(dir, 'not-a-folder'))
  const { conn: next } = connection()
  await dataPost(plugin, next, spoof())
  t.equal((await fixtures.callDataPost(plugin, next, 'hold_message')).rc, undefined)
  t.ok(fs.existsSync(next.transaction.notes.quarantined as string), 'the next one is held')
})
