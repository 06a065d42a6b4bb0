/**
 * The quarantine store, the release and the SMTP client, on a quarantine folder laid
 * out as core queue/quarantine lays it out, in a temporary folder; dates are given,
 * never waited for. The SMTP next hop is a loopback sink.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { parseIni } from '../../dist/src/config/settings.js'
import { localTime, parseDate } from '../../dist/src/cli/args.js'
import { quarantineCommand } from '../../dist/src/cli/quarantine.js'
import { AlreadyReleasedError, QuarantineStore } from '../../dist/src/quarantine/store.js'
import { ReleaseError, releaseEntry } from '../../dist/src/quarantine/release.js'
import { buildSidecar, parseSidecar, writeSidecar } from '../../dist/src/quarantine/sidecar.js'
import { decodeHeaderText, sanitizeText } from '../../dist/src/quarantine/text.js'
import { formatReleaseHeader, parseReleaseHeader, rfc5322Date } from '../../dist/src/quarantine/release-record.js'
import { parseDuration } from '../../dist/src/cli/args.js'
import { quarantineDirOf } from '../../dist/src/quarantine/names.js'
import { SmtpError, dataOf, sendMessage } from '../../dist/src/quarantine/smtp-client.js'
import { startSink } from '../helpers/smtp-sink'

const DAY = 86_400_000
const NOW = new Date('2026-05-21T12:00:00Z')

interface Held {
  readonly id: string
  readonly day: string
  readonly received: Date
  readonly brand?: string
  readonly verdict?: string
  readonly to?: readonly string[]
  readonly subject?: string
  /** write no sidecar */
  readonly bare?: boolean
  /** below a sub-folder, as core does for notes.quarantine = 'sub' */
  readonly sub?: string
}

const message = (h: Held): string =>
  [
    `X-Shop-Notice: ${h.verdict ?? 'spoofed'}; brand=${h.brand ?? 'testshop'}; kind=order; score=12; signals=AUTH_SPF_FAIL,BRAND_NOT_AUTHENTICATED`,
    'From: TestShop <order@shop.example>',
    `Subject: ${h.subject ?? 'Your order'}`,
    `Message-ID: <${h.id}@test.example>`,
    '',
    'Order 1234',
    '.a dot line',
    '',
  ].join('\n')

/** A quarantine folder with these messages, each with its sidecar unless `bare`. */
async function folder(t: Test, held: readonly Held[]): Promise<{ dir: string; file(id: string): string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-q-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'tmp'))
  fs.writeFileSync(path.join(dir, 'tmp', 'half-written'), 'x') // core's temporary files are not messages
  const files: Record<string, string> = {}
  for (const h of held) {
    const dayDir = path.join(dir, h.sub ?? '', h.day)
    fs.mkdirSync(dayDir, { recursive: true })
    const file = path.join(dayDir, h.id)
    fs.writeFileSync(file, message(h))
    const mtime = h.received
    fs.utimesSync(file, mtime, mtime)
    files[h.id] = file
    if (h.bare) continue
    await writeSidecar(
      file,
      buildSidecar({
        id: h.id,
        received: h.received,
        remote: { ip: '192.0.2.7', helo: 'client.example' },
        envelope: { from: 'bounce@shop.example', to: h.to ?? ['customer@recipient.example'] },
        headers: { from: 'TestShop <order@shop.example>', subject: h.subject ?? 'Your order', messageId: `<${h.id}@test.example>` },
        size: fs.statSync(file).size,
        summary: {
          verdict: h.verdict ?? 'spoofed',
          brand: h.brand ?? 'testshop',
          kind: 'order',
          score: 12,
          action: 'quarantine',
          signals: [
            { symbol: 'AUTH_SPF_FAIL', options: ['shop.example'] },
            { symbol: 'BRAND_NOT_AUTHENTICATED', options: [] },
          ],
          auth: { spf: 'fail', dkim: ['none'], dmarc: 'fail', arc: 'none' },
        },
        scores: { AUTH_SPF_FAIL: 2, BRAND_NOT_AUTHENTICATED: 6 },
        authenticationResults: ['mx.test.example; spf=fail smtp.mailfrom=shop.example'],
      }),
    )
  }
  return { dir, file: (id) => files[id]! }
}

const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY)

const HELD: readonly Held[] = [
  { id: 'AAAA0001-0000-0000-0000-000000000001.1', day: '20260521', received: ago(0.1), to: ['alice@example.net'] },
  { id: 'AAAA0002-0000-0000-0000-000000000002.1', day: '20260519', received: ago(2), brand: 'amazon', to: ['bob@example.org', 'carol@example.net'] },
  { id: 'BBBB0003-0000-0000-0000-000000000003.1', day: '20260410', received: ago(41), verdict: 'suspicious', to: ['dave@example.net'] },
  { id: 'BBBB0004-0000-0000-0000-000000000004.2', day: '20260301', received: ago(81), bare: true },
  { id: 'CCCC0005-0000-0000-0000-000000000005.1', day: '20260520', received: ago(1), sub: 'other', to: ['erin@example.net'] },
]

t.test('list: newest first, every layout core writes, sidecar or headers', async (t) => {
  const { dir } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const all = await store.list()
  t.same(
    all.map((e) => e.id),
    ['AAAA0001-0000-0000-0000-000000000001.1', 'CCCC0005-0000-0000-0000-000000000005.1', 'AAAA0002-0000-0000-0000-000000000002.1', 'BBBB0003-0000-0000-0000-000000000003.1', 'BBBB0004-0000-0000-0000-000000000004.2'],
    'newest first; sidecars, temporary files and core tmp/ are not messages',
  )
  const bare = all.at(-1)!
  t.equal(bare.source, 'headers', 'no sidecar: read from the headers')
  t.match(bare.info, { verdict: 'spoofed', brand: 'testshop', kind: 'order', score: 12, subject: 'Your order' })
  t.same(bare.info.signals.map((s) => s.symbol), ['AUTH_SPF_FAIL', 'BRAND_NOT_AUTHENTICATED'])
  t.equal(bare.received.getTime(), ago(81).getTime(), "its time is the file's")
  const first = all[0]!
  t.equal(first.source, 'sidecar')
  t.match(first.info, { envelope: { from: 'bounce@shop.example', to: ['alice@example.net'] }, remote: { ip: '192.0.2.7' } })
  t.same(first.info.signals[0], { symbol: 'AUTH_SPF_FAIL', score: 2, options: ['shop.example'] })
  t.equal(first.status, 'held')
})

t.test('list filters', async (t) => {
  const { dir } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const ids = async (f: Parameters<QuarantineStore['list']>[0]): Promise<string[]> => (await store.list(f)).map((e) => e.id.slice(0, 8))
  t.same(await ids({ brand: 'amazon' }), ['AAAA0002'], 'brand')
  t.same(await ids({ brand: 'AMAZON' }), ['AAAA0002'], 'brand, any case')
  t.same(await ids({ verdict: 'suspicious' }), ['BBBB0003'], 'verdict')
  t.same(await ids({ recipient: 'example.org' }), ['AAAA0002'], 'a part of a recipient')
  t.same(await ids({ recipient: 'CAROL@' }), ['AAAA0002'], 'any recipient, any case')
  t.same(await ids({ since: ago(3) }), ['AAAA0001', 'CCCC0005', 'AAAA0002'], 'since')
  t.same(await ids({ since: ago(50), until: ago(1.5) }), ['AAAA0002', 'BBBB0003'], 'between')
  t.same(await ids({ brand: 'testshop', verdict: 'spoofed', since: ago(100) }), ['AAAA0001', 'CCCC0005', 'BBBB0004'], 'together')
  t.same(await ids({ status: 'released' }), [], 'status')
})

t.test('find: by id or unique prefix; clear errors', async (t) => {
  const { dir } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  t.equal((await store.find('CCCC')).id, 'CCCC0005-0000-0000-0000-000000000005.1', 'a unique prefix, in a sub-folder')
  t.equal((await store.find('aaaa0002')).id, 'AAAA0002-0000-0000-0000-000000000002.1', 'any case')
  for (const [id, re] of [
    ['AAAA', /names 2 messages .*give more of the id/],
    ['DDDD', /no held message DDDD in /],
    ['../x', /is not a message id/],
  ] as const) {
    try {
      await store.find(id)
      t.fail(`${id} found`)
    } catch (err) {
      t.match((err as Error).message, re, id)
    }
  }
  try {
    await store.find('AAAA', { exact: true })
    t.fail('exact matched a prefix')
  } catch (err) {
    t.match((err as Error).message, /no held message/, 'exact: no prefixes')
  }
  try {
    await new QuarantineStore(path.join(dir, 'nowhere')).list()
    t.fail('listed a missing folder')
  } catch (err) {
    t.match((err as Error).message, /no such quarantine folder/)
  }
})

t.test('a damaged sidecar does not break the listing', async (t) => {
  const { dir, file } = await folder(t, HELD.slice(0, 2))
  fs.writeFileSync(`${file(HELD[0]!.id)}.json`, '{"version": 1, "id": "AAAA0001')
  fs.writeFileSync(`${file(HELD[1]!.id)}.json`, JSON.stringify({ version: 1, id: 'someone-else', received: NOW.toISOString() }))
  const all = await new QuarantineStore(dir).list()
  t.equal(all.length, 2)
  for (const e of all) t.equal(e.source, 'headers')
  t.match(all.map((e) => e.sidecarProblem).sort(), [/JSON/, /names another message/])
  try {
    parseSidecar(JSON.stringify({ version: 9 }))
    t.fail('accepted')
  } catch (err) {
    t.match((err as Error).message, /unknown sidecar version 9/)
  }
})

t.test('delete and purge (dates faked), a dry run changes nothing', async (t) => {
  const { dir, file } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const old = HELD[2]!
  fs.writeFileSync(`${file(old.id)}.release`, JSON.stringify({ state: 'released', by: 'x', at: ago(40).toISOString(), to: 'h:25' }))

  const dry = await store.purge(ago(30), true)
  t.same(dry.removed.map((e) => e.id.slice(0, 8)), ['BBBB0004', 'BBBB0003'], 'oldest first')
  t.equal(dry.bytes, fs.statSync(file(old.id)).size + fs.statSync(file(HELD[3]!.id)).size)
  t.ok(fs.existsSync(file(old.id)), 'dry run: still there')

  const done = await store.purge(ago(30))
  t.equal(done.removed.length, 2)
  for (const ext of ['', '.json', '.release']) t.notOk(fs.existsSync(`${file(old.id)}${ext}`), `removed: message${ext}`)
  t.notOk(fs.existsSync(path.join(dir, '20260410')), 'its empty day folder too')
  t.same((await store.list()).map((e) => e.id.slice(0, 8)), ['AAAA0001', 'CCCC0005', 'AAAA0002'], 'the younger ones stay')

  await store.remove(await store.find('AAAA0002'))
  t.notOk(fs.existsSync(file(HELD[1]!.id)) || fs.existsSync(`${file(HELD[1]!.id)}.json`), 'delete: message and sidecar')
  t.same((await store.list()).map((e) => e.id.slice(0, 8)), ['AAAA0001', 'CCCC0005'])
})

t.test('release: claimed once, never sent twice', async (t) => {
  const { dir, file } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const e = await store.find('AAAA0001')
  const sent: Buffer[] = []
  const send = async (_target: unknown, env: { from: string; to: readonly string[] }, msg: Buffer) => {
    sent.push(msg)
    t.same(env, { from: 'bounce@shop.example', to: ['alice@example.net'] }, 'the recorded envelope')
    return { reply: '250 2.0.0 queued' }
  }
  const opts = { by: 'alice', now: NOW, target: { host: '127.0.0.1', port: 25 }, send }

  // two releases at once: exactly one claims it
  const results = await Promise.allSettled([releaseEntry(store, e, opts), releaseEntry(store, e, opts)])
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one release succeeds')
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
  t.ok(refused.reason instanceof AlreadyReleasedError, 'the other is refused')
  t.equal(sent.length, 1, 'one message sent')
  const header = `X-Shop-Notice-Released: by=alice; at=Thu, 21 May 2026 12:00:00 +0000; id=${e.id}; token=`
  t.equal(sent[0]!.subarray(0, header.length).toString(), header, 'one header on top: who, when, which')
  const nl = sent[0]!.indexOf('\n')
  t.ok(sent[0]!.subarray(nl + 1).equals(fs.readFileSync(file(e.id))), 'then the stored bytes, unchanged')

  const after = await store.find('AAAA0001')
  t.equal(after.status, 'released')
  t.match(after.release, { state: 'released', by: 'alice', at: NOW.toISOString(), to: '127.0.0.1:25', reply: '250 2.0.0 queued' })
  t.notOk(after.release?.token, 'the token is dropped once settled')
  try {
    await releaseEntry(store, after, opts)
    t.fail('released twice')
  } catch (err) {
    t.match((err as Error).message, /already released by alice at 2026-05-21T12:00:00.000Z to 127\.0\.0\.1:25: not sent again/)
  }
  t.equal(sent.length, 1)
})

t.test('release failures: refused gives the claim back; an unanswered end of DATA keeps it', async (t) => {
  const { dir } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const target = { host: '127.0.0.1', port: 25 }
  const e = await store.find('AAAA0002')
  const refuse = async () => {
    throw new SmtpError('127.0.0.1:25 refused the recipient <bob@example.org>: 550 no', 'rcpt', 'no')
  }
  try {
    await releaseEntry(store, e, { by: 'alice', now: NOW, target, send: refuse })
    t.fail('released')
  } catch (err) {
    t.ok(err instanceof ReleaseError)
    t.match((err as Error).message, /not released, still held: .*refused the recipient/)
  }
  t.equal((await store.find('AAAA0002')).status, 'held', 'held again, claim given back')

  const vanish = async () => {
    throw new SmtpError('127.0.0.1:25: closed the connection (during end)', 'end', 'unknown')
  }
  try {
    await releaseEntry(store, e, { by: 'alice', now: NOW, target, send: vanish })
    t.fail('released')
  } catch (err) {
    t.match((err as Error).message, /no answer came .* it may have been delivered\. Check there; to try again, remove .*\.release/)
  }
  const unknown = await store.find('AAAA0002')
  t.equal(unknown.status, 'unknown')
  try {
    await releaseEntry(store, unknown, { by: 'bob', now: NOW, target, send: async () => ({ reply: '250' }) })
    t.fail('sent again')
  } catch (err) {
    t.match((err as Error).message, /did not finish .*check whether 127\.0\.0\.1:25 received it, then remove/)
  }

  const bare = await store.find('BBBB0004')
  try {
    await releaseEntry(store, bare, { by: 'alice', now: NOW, target, send: async () => ({ reply: '250' }) })
    t.fail('released without an envelope')
  } catch (err) {
    t.match((err as Error).message, /the envelope is unknown \(no sidecar\); give it with --from and --to/)
  }
  t.equal((await store.find('BBBB0004')).status, 'held', 'nothing claimed')
  const given = await releaseEntry(store, bare, { by: 'alice', now: NOW, target, envelope: { from: '', to: ['x@example.net'] }, send: async () => ({ reply: '250' }) })
  t.same(given.record.envelope, { from: '', to: ['x@example.net'] }, 'an envelope given by hand')
  try {
    await releaseEntry(store, await store.find('CCCC'), { by: 'a;b', now: NOW, target })
    t.fail('accepted a bad releaser')
  } catch (err) {
    t.match((err as Error).message, /releaser "a;b"/)
  }
})

t.test('the release token: good once, only while its release is being sent', async (t) => {
  const { dir } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const e = await store.find('AAAA0001')
  const token = 'a'.repeat(32)
  const value = formatReleaseHeader({ by: 'alice', at: rfc5322Date(NOW), id: e.id, token })
  t.equal(await store.useToken(value), undefined, 'no claim: refused')
  await store.claim(e, { state: 'sending', by: 'alice', at: NOW.toISOString(), to: 'h:25', token })
  t.equal(await store.useToken(value.replace(token, 'b'.repeat(32))), undefined, 'another token: refused')
  t.equal(await store.useToken(value.replace(e.id, 'AAAA0002-0000-0000-0000-000000000002.1')), undefined, 'another message: refused')
  t.equal(await store.useToken(value.replace(e.id, 'AAAA0001')), undefined, 'a prefix of the id: refused')
  t.match(await store.useToken(value), { by: 'alice', id: e.id }, 'the claim being sent: accepted')
  t.equal(await store.useToken(value), undefined, 'the same token again: refused')
  await store.settle(e, { state: 'released', by: 'alice', at: NOW.toISOString(), to: 'h:25' })
  t.equal(await store.useToken(value), undefined, 'once released: refused')
  for (const bad of ['', 'by=a; at=x; id=../../etc; token=' + token, `by=a; at=x; id=${e.id}; token=XYZ`, 'garbage']) {
    t.equal(parseReleaseHeader(bad), undefined, `unparsable: ${JSON.stringify(bad)}`)
  }
})

t.test('the release token is looked up by its id: a few file operations, never a listing of the quarantine', async (t) => {
  const { dir } = await folder(t, HELD)
  // a large quarantine: 3,000 more messages over 30 days
  for (let d = 0; d < 30; d++) {
    const day = path.join(dir, `202604${String(d + 1).padStart(2, '0')}`)
    fs.mkdirSync(day, { recursive: true })
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(day, `FILL${d}-${i}`), 'x')
  }
  const store = new QuarantineStore(dir)
  const e = await store.find('AAAA0001')
  const token = 'c'.repeat(32)
  await store.claim(e, { state: 'sending', by: 'alice', at: NOW.toISOString(), to: 'h:25', token })
  const value = formatReleaseHeader({ by: 'alice', at: rfc5322Date(NOW), id: e.id, token })

  const counted = { readdir: 0, opendir: 0, paths: new Set<string>() }
  const real = { readdir: fs.promises.readdir, opendir: fs.promises.opendir, readFile: fs.promises.readFile, stat: fs.promises.stat }
  const p = fs.promises as unknown as Record<string, unknown>
  p.readdir = (...args: unknown[]) => (counted.readdir++, (real.readdir as (...a: unknown[]) => unknown)(...args))
  p.opendir = (...args: unknown[]) => (counted.opendir++, (real.opendir as (...a: unknown[]) => unknown)(...args))
  p.readFile = (f: string, ...rest: unknown[]) => (counted.paths.add(String(f)), (real.readFile as (...a: unknown[]) => unknown)(f, ...rest))
  p.stat = (f: string, ...rest: unknown[]) => (counted.paths.add(String(f)), (real.stat as (...a: unknown[]) => unknown)(f, ...rest))
  let got: unknown
  let forged: unknown
  try {
    forged = await store.useToken(formatReleaseHeader({ by: 'x', at: rfc5322Date(NOW), id: 'FILL3-7', token }))
    got = await store.useToken(value)
  } finally {
    Object.assign(fs.promises, real)
  }
  t.equal(forged, undefined, 'a held message with no release being sent: refused')
  t.match(got, { by: 'alice', id: e.id }, 'the release being sent: accepted')
  t.equal(counted.readdir + counted.opendir, 0, 'no folder listed')
  t.ok([...counted.paths].every((f) => f.includes(e.id) || f.includes('FILL3-7')), `only the ids' own files touched: ${[...counted.paths].map((f) => path.relative(dir, f)).join(', ')}`)
  t.ok(counted.paths.size <= 8, `${counted.paths.size} files read`)
})

t.test('release claims and their token are readable by their owner only', async (t) => {
  const { dir } = await folder(t, HELD)
  const store = new QuarantineStore(dir)
  const e = await store.find('AAAA0001')
  const token = 'd'.repeat(32)
  const mode = (f: string): number => fs.statSync(f).mode & 0o777
  await store.claim(e, { state: 'sending', by: 'alice', at: NOW.toISOString(), to: 'h:25', token })
  t.equal(mode(`${e.file}.release`), 0o600, '.release (the token inside) 0600')
  t.equal(mode(path.join(dir, '.releasing', e.id)), 0o600, '.releasing/<id> 0600')
  t.equal(mode(path.join(dir, '.releasing')), 0o700, '.releasing/ 0700')
  await store.useToken(formatReleaseHeader({ by: 'alice', at: rfc5322Date(NOW), id: e.id, token }))
  t.equal(mode(`${e.file}.release-used`), 0o600, '.release-used 0600')
  await store.settle(e, { state: 'released', by: 'alice', at: NOW.toISOString(), to: 'h:25' })
  t.equal(mode(`${e.file}.release`), 0o600, 'the settled record too')
  t.notOk(fs.existsSync(path.join(dir, '.releasing', e.id)), 'settled: no longer being sent')
  t.notOk((await store.list()).some((x) => x.id.startsWith('.')), 'nothing of .releasing/ is listed')
  const other = await store.find('CCCC')
  await store.claim(other, { state: 'sending', by: 'alice', at: NOW.toISOString(), to: 'h:25', token })
  await store.unclaim(other)
  t.notOk(fs.existsSync(path.join(dir, '.releasing', other.id)), 'given back: gone from .releasing/')
})

t.test('text from messages', async (t) => {
  t.equal(sanitizeText('a\r\n\tb'), 'a b', 'unfolded')
  t.equal(sanitizeText('pay\u202Egpj.exe'), 'pay\uFFFDgpj.exe', 'bidi override shown')
  t.equal(sanitizeText('ama\u200Bzon'), 'ama\uFFFDzon', 'zero-width space shown')
  t.equal(sanitizeText('x\u001b[31mred'), 'x\uFFFD[31mred', 'no terminal escapes')
  t.equal(sanitizeText('a\tb\nc'), 'a b c', 'one line, no tabs')
  t.equal(sanitizeText('あ'.repeat(10), 5), 'ああああ…', 'at most max characters')
  t.equal(decodeHeaderText('=?ISO-2022-JP?B?GyRCJTklXiVbGyhC?='), 'スマホ', 'ISO-2022-JP encoded-word')
  t.equal(decodeHeaderText('=?UTF-8?Q?caf=C3=A9?=\r\n =?UTF-8?Q?_au_lait?='), 'café au lait', 'folded encoded-words')
  t.equal(decodeHeaderText('=?UTF-8?B?4oCu?=x'), '\uFFFDx', 'decoded, then sanitized')
})

t.test('small parts', async (t) => {
  t.equal(parseDuration('30d'), 30 * DAY)
  t.equal(parseDuration('12h'), 12 * 3_600_000)
  t.equal(parseDuration('2w'), 14 * DAY)
  t.equal(parseDuration('90m'), 90 * 60_000)
  for (const bad of ['30', 'd', '1.5d', '-1d', '30 days']) t.equal(parseDuration(bad), undefined, bad)
  t.equal(rfc5322Date(new Date('2026-01-02T03:04:05Z')), 'Fri, 2 Jan 2026 03:04:05 +0000')
  t.equal(quarantineDirOf({ main: { quarantine_path: 'var/q' } }, '/srv/haraka'), '/srv/haraka/var/q')
  t.equal(quarantineDirOf({ main: { quarantine_path: '/data/q' } }, '/srv/haraka'), '/data/q')
  t.equal(quarantineDirOf({ main: {} }, '/srv/haraka'), '/var/spool/haraka/quarantine', "core's default")
  t.equal(dataOf(Buffer.from('a\n.b\n..c\nd')).toString(), 'a\r\n..b\r\n...c\r\nd\r\n.\r\n', 'CRLF, dot-stuffed, terminated')
  t.equal(parseDate('2026-05-21', 'x').getTime(), new Date(2026, 4, 21).getTime(), 'a local day')
  t.equal(parseDate('2026-05-31', 'x', true).getTime(), new Date(2026, 5, 1).getTime(), 'until: the end of the day')
  t.match(localTime(new Date(2026, 4, 21, 9, 5, 7)), /^2026-05-21T09:05:07[+-]\d{2}:\d{2}$/)
  for (const bad of ['2026-02-30', '21/05/2026', 'yesterday']) {
    try {
      parseDate(bad, '--since')
      t.fail(bad)
    } catch (err) {
      t.match((err as Error).message, /^--since /, bad)
    }
  }
})

t.test('the SMTP client against a loopback sink', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const target = { host: '127.0.0.1', port: sink.port, helo: 'releaser.test', timeoutMs: 10_000 }
  const msg = Buffer.from('Subject: x\n\n.dot\nテスト\n', 'utf8')

  const ok = await sendMessage(target, { from: '', to: ['a@example.net', 'b@example.net'] }, msg)
  t.match(ok.reply, /^250 2\.0\.0 Ok/)
  const got = sink.messages.at(-1)!
  t.match(got, { helo: 'releaser.test', from: '', to: ['a@example.net', 'b@example.net'] })
  t.equal(got.params, ' BODY=8BITMIME', '8-bit body announced')
  t.ok(got.data.equals(Buffer.from('Subject: x\r\n\r\n.dot\r\nテスト\r\n', 'utf8')), 'the bytes arrive as sent, dots unstuffed by the server')

  await sendMessage(target, { from: 'jürgen@example.de', to: ['ü@example.net'] }, Buffer.from('Subject: y\n\nhi\n'))
  t.match(sink.messages.at(-1), { from: 'jürgen@example.de', to: ['ü@example.net'], params: ' SMTPUTF8' }, 'SMTPUTF8 for a UTF-8 envelope')

  sink.extensions = []
  try {
    await sendMessage(target, { from: 'jürgen@example.de', to: ['x@example.net'] }, msg)
    t.fail('sent without SMTPUTF8')
  } catch (err) {
    t.match(err, { stage: 'mail', delivered: 'no', message: /does not offer SMTPUTF8/ })
  }
  sink.extensions = ['8BITMIME']

  const cases = [
    ['refuse-rcpt', { stage: 'rcpt', delivered: 'no', reply: /^550 / }],
    ['refuse-data', { stage: 'end', delivered: 'no', reply: /^554 / }],
    ['greet-554', { stage: 'greeting', delivered: 'no' }],
    ['drop-after-data', { stage: 'end', delivered: 'unknown' }],
  ] as const
  for (const [behaviour, expected] of cases) {
    sink.behaviour = behaviour
    const before = sink.messages.length
    try {
      await sendMessage(target, { from: 'a@example.net', to: ['b@example.net'] }, msg)
      t.fail(`${behaviour}: no error`)
    } catch (err) {
      t.ok(err instanceof SmtpError, behaviour)
      t.match(err, expected, behaviour)
    }
    t.equal(sink.messages.length, before, `${behaviour}: nothing taken`)
  }
  sink.behaviour = 'accept'

  try {
    await sendMessage({ ...target, port: 1 }, { from: 'a@example.net', to: ['b@example.net'] }, msg)
    t.fail('connected to port 1')
  } catch (err) {
    t.match(err, { stage: 'connect', delivered: 'no' })
  }
  try {
    await sendMessage(target, { from: 'a@example.net>\r\nRCPT TO:<c@example.net', to: ['b@example.net'] }, msg)
    t.fail('sent a broken envelope')
  } catch (err) {
    t.match(err, { delivered: 'no', message: /not a valid envelope address/ })
  }
})

/** What a terminal could act on, or what hides or reorders text (quarantine/text.ts printable). */
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u
/** Escapes a forged sidecar or claim might carry: a screen redrawn into a fake "verified", C1 CSI, bidi, fillers, tags. */
const HOSTILE = [
  '\u001b[2J\u001b[H\u001b[32mverdict verified\u001b[0m',
  '\u001b]0;title\u0007',
  '\u009b31m',
  'shop\u202e.exe\u202c',
  'a\u2066b\u2069',
  'x\u200by\u200dz',
  '\u115f\u3164\ufe0f\u034f',
  '\u{e0041}\u{e0001}',
  'line\nVerdict    verified\rcarriage',
  '\u2028\u2029\u0085',
].join(' ')

t.test('list and show print no escape sequence from a sidecar or claim full of them', async (t) => {
  const { dir, file } = await folder(t, [HELD[0]!])
  const f = file(HELD[0]!.id)
  const h = (s: string): string => `${s} ${HOSTILE}`
  fs.writeFileSync(
    `${f}.json`,
    JSON.stringify({
      version: 1,
      id: HELD[0]!.id,
      received: NOW.toISOString(),
      remote: { ip: h('192.0.2.1'), host: h('host'), helo: h('helo') },
      envelope: { from: h('bounce@shop.example'), to: [h('alice@example.net')] },
      from: h('TestShop'),
      subject: h('Your order'),
      message_id: h('<id@x>'),
      size: 10,
      verdict: h('spoofed'),
      brand: h('testshop'),
      kind: h('order'),
      score: 12,
      action: h('quarantine'),
      signals: [{ symbol: h('AUTH_SPF_FAIL'), score: 2, options: [h('opt')] }],
      auth: { spf: h('fail'), dkim: [h('pass:shop.example')], dmarc: h('fail'), arc: h('none') },
      authentication_results: [h('mx.test.example; dkim=pass header.d=shop.example')],
    }),
  )
  fs.writeFileSync(`${f}.release`, JSON.stringify({ state: 'released', by: h('alice'), at: h(NOW.toISOString()), to: h('h:25'), reply: h('250 ok'), error: h('none') }))
  const out: string[] = []
  const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) }
  for (const args of [['list'], ['list', '--json'], ['show', HELD[0]!.id], ['show', '--json', HELD[0]!.id], ['show', 'nothing-like-it'], ['list', '--status', HOSTILE]]) {
    out.length = 0
    await quarantineCommand([...args, '--dir', dir], io, () => NOW)
    t.ok(out.length > 0, `${args[0]} ${args[1] ?? ''}: printed`)
    const bad = out.filter((l) => UNSAFE.test(l))
    t.same(bad, [], `${args.join(' ').slice(0, 40)}: no line with a control, bidi or invisible character`)
    if (args.includes('--json')) {
      const o = JSON.parse(out[0]!)
      t.equal(o.subject, h('Your order'), 'JSON keeps the value exactly, escaped')
    }
  }
  out.length = 0
  await quarantineCommand(['show', HELD[0]!.id, '--dir', dir], io, () => NOW)
  t.notOk(out.some((l) => /^Verdict +verified/.test(l)), 'no field begins a line of its own')
  t.ok(out.some((l) => l.includes('dkim=pass:shop.example \uFFFD[2J')), 'the DKIM d= shown with its escape visible as U+FFFD')
})

t.test('the command in-process: list, show, purge with a fixed clock; usage errors', async (t) => {
  const { dir } = await folder(t, HELD)
  const out: string[] = []
  const err: string[] = []
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }
  const run = async (...args: string[]): Promise<number> => {
    out.length = 0
    err.length = 0
    return quarantineCommand(args, io, () => NOW)
  }
  t.equal(await run('list', '--dir', dir, '--limit', '2'), 0)
  t.equal(out.length, 2)
  t.same(out[0]!.split('\t').slice(0, 1).concat(out[0]!.split('\t').slice(2)), [
    'AAAA0001-0000-0000-0000-000000000001.1',
    'held',
    'spoofed',
    '12',
    'testshop',
    'bounce@shop.example',
    'alice@example.net',
    'Your order',
  ])
  t.equal(await run('list', '--dir', dir, '--json', '--recipient', 'carol'), 0)
  t.match(JSON.parse(out[0]!), { id: 'AAAA0002-0000-0000-0000-000000000002.1', brand: 'amazon', recipients: ['bob@example.org', 'carol@example.net'], signals: ['AUTH_SPF_FAIL', 'BRAND_NOT_AUTHENTICATED'] })

  t.equal(await run('show', '--dir', dir, 'BBBB0004'), 0)
  t.match(out.join('\n'), /^Envelope +unknown: no sidecar; what follows is read from the headers$/m, 'a message without sidecar is shown from its headers')

  t.equal(await run('purge', '--dir', dir, '--older-than', '30d'), 0)
  t.match(out.at(-1), /^purged 2 message\(s\), \d+ bytes, held before 2026-04-21T/)
  t.equal(await run('list', '--dir', dir), 0)
  t.equal(out.length, 3, 'three left')

  for (const args of [
    [],
    ['nope'],
    ['list', '--dir', dir, '--since', 'yesterday'],
    ['list', '--dir', dir, '--date', '2026-05-21', '--since', '2026-05-01'],
    ['list', '--dir', dir, '--limit', '0'],
    ['show', '--dir', dir],
    ['show', '--dir', dir, 'a', 'b'],
    ['show', '--dir', dir, '--json', '--raw', 'AAAA0001'],
    ['release', '--dir', dir, '--port', '70000', 'AAAA0001'],
    ['release', '--dir', dir, '--by', 'x y', 'AAAA0001'],
    ['release', '--dir', dir, '--to', 'x@example.net', 'AAAA0001'],
    ['purge', '--dir', dir, '--older-than', '30'],
    ['list', '--dir', dir, '--bogus'],
  ]) {
    t.equal(await run(...args), 2, `usage error: ${args.join(' ')}`)
    t.match(err.join('\n'), /shop-notice: .*\n[\s\S]*Usage: shop-notice quarantine/, 'says what and shows the usage')
  }
  t.equal(await run('show', '--dir', dir, 'ZZZZ'), 1, 'not found: 1')
  t.match(err[0], /no held message ZZZZ/)
  t.equal(await run('list', '--dir', path.join(dir, 'missing')), 1)
  t.match(err[0], /no such quarantine folder/)
})

t.test('[quarantine] keys of shop-notice.ini: defaults, and errors that name the key', async (t) => {
  t.same(parseIni({}).value.quarantine, { release_host: '127.0.0.1', release_port: 2525, release_timeout_ms: 30000 })
  t.same(parseIni({ quarantine: { release_host: 'mx2.example.net', release_port: 25 } }).value.quarantine.release_host, 'mx2.example.net')
  t.equal(parseIni({ quarantine: { release_host: '[::1]' } }).value.quarantine.release_host, '::1', 'an IPv6 address, brackets or not')
  for (const [key, value, re] of [
    ['release_port', 70000, /^x\.ini: \[quarantine\] release_port: expected a port number \(1-65535\), got 70000$/],
    ['release_port', 'smtp', /release_port: expected a port number/],
    ['release_host', 'mail server', /^x\.ini: \[quarantine\] release_host: expected a host name or an IP address, got "mail server"$/],
    ['release_timeout_ms', -1, /release_timeout_ms: expected a positive integer/],
  ] as const) {
    try {
      parseIni({ quarantine: { [key]: value } }, 'x.ini')
      t.fail(`${key}=${value} accepted`)
    } catch (err) {
      t.match((err as Error).message, re, `${key}=${value}`)
    }
  }
})
