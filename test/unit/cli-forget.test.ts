/**
 * `shop-notice forget` as an admin runs it: the real bin, a child process, the store the
 * Haraka folder's shop-notice.ini selects (sqlite here; Redis against a real redis-server,
 * skipped where redis-server is missing, a failure in CI).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { configFor } from '../../dist/src/config/sources.js'
import { harakaSource, loadSettings } from '../../dist/src/config/settings.js'
import { type Store, openStore, secretFileOf } from '../../dist/src/store/index.js'
import { redisSkipReason, startRedis } from '../helpers/redis-server'
import { makeCerts, opensslSkipReason } from '../helpers/tls-certs'

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'shop-notice.js')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

/** a Haraka folder with this shop-notice.ini */
function haraka(t: Test, ini: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-cli-forget-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'shop-notice.ini'), ini)
  return dir
}

/** the store as the plugin opens it for this Haraka folder: its shop-notice.ini, the folder as base */
function pluginStore(t: Test, dir: string): Store {
  const s = openStore(loadSettings(harakaSource(configFor(dir))).value.store, { baseDir: dir, pruneIntervalMs: 0 })
  t.teardown(() => s.close())
  return s
}

/** taro: two shops, two names; hanako: one shop, one name */
async function learnTwo(t: Test, s: Store): Promise<void> {
  t.equal(await s.ready(), true, 'the plugin\'s store is open')
  for (const shop of ['amazon', 'example-shop.jp']) t.equal(await s.learn('taro@example.jp', shop, ['山田 太郎 様', 'Taro Yamada']), true)
  t.equal(await s.learn('hanako@example.jp', 'amazon', ['鈴木 花子 様']), true)
}

async function checkForgotten(t: Test, s: Store): Promise<void> {
  const taro = await s.recall('taro@example.jp', 'amazon', ['山田太郎様'])
  t.equal(taro.ok, true)
  t.equal(taro.firstContact, true, 'the forgotten recipient: a first contact again')
  t.equal(taro.knownNames, 0, 'and no name known')
  const hanako = await s.recall('hanako@example.jp', 'amazon', ['鈴木花子様'])
  t.equal(hanako.firstContact, false, 'the other recipient is still known')
  t.same(hanako.matchedNames, ['鈴木花子様'])
}

t.test('sqlite: learn two recipients, forget one; the other is still known, the forgotten one is a first contact', async (t) => {
  // a [store] path of the admin's own: the command must use the store the configuration selects
  const dir = haraka(t, '[store]\nbackend=sqlite\npath=data/notices.sqlite\n')
  const s = pluginStore(t, dir)
  await learnTwo(t, s)
  t.ok(fs.existsSync(path.join(dir, 'data', 'notices.sqlite')))

  const r = await cli(['forget', '--config', dir, '<Taro@Example.JP>', 'nobody@example.jp', 'TARO@example.jp'], os.tmpdir())
  t.equal(r.code, 0, r.stderr)
  t.same(
    r.stdout.trim().split('\n').map((l) => l.split('\t')),
    [
      ['<Taro@Example.JP>', '4', "forgotten: 2 shops' contacts, 2 names"],
      ['nobody@example.jp', '0', 'not remembered: nothing to forget'],
    ],
    'one line per mailbox (the same one spelled twice is forgotten once); 0 is said, not an error',
  )
  t.equal(r.stderr, '')
  await checkForgotten(t, s)

  const again = await cli(['forget', '--json', '--config', dir, 'hanako@example.jp', 'taro@example.jp'], os.tmpdir())
  t.equal(again.code, 0, again.stderr)
  t.same(
    again.stdout.trim().split('\n').map((l) => JSON.parse(l)),
    [
      { address: 'hanako@example.jp', normalised: 'hanako@example.jp', records: 2, contacts: 1, names: 1 },
      { address: 'taro@example.jp', normalised: 'taro@example.jp', records: 0, contacts: 0, names: 0 },
    ],
  )
  t.equal((await s.recall('hanako@example.jp', 'amazon', [])).firstContact, true)
})

t.test('sqlite: no store yet is nothing to forget, and nothing is made; a missing key file is an error', async (t) => {
  const dir = haraka(t, '[store]\nbackend=sqlite\n')
  const r = await cli(['forget', '--config', dir, 'taro@example.jp'], os.tmpdir())
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'taro@example.jp\t0\tnot remembered: nothing to forget\n')
  t.match(r.stderr, /var\/shop-notice\.sqlite: no store here yet/)
  t.same(fs.readdirSync(dir), ['config'], 'no folder, database or secret made')

  const s = pluginStore(t, dir)
  await learnTwo(t, s)
  await s.close()
  const db = path.join(dir, 'var', 'shop-notice.sqlite')
  fs.renameSync(secretFileOf(db), `${secretFileOf(db)}.away`)
  const noKey = await cli(['forget', '--config', dir, 'taro@example.jp'], os.tmpdir())
  t.equal(noKey.code, 1)
  t.equal(noKey.stdout, '')
  t.match(noKey.stderr, /shop-notice\.sqlite\.key: missing: .*restore it/)
  t.notOk(fs.existsSync(secretFileOf(db)), 'no new secret made in its place')

  fs.renameSync(`${secretFileOf(db)}.away`, secretFileOf(db))
  for (const f of [`${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true })
  fs.writeFileSync(db, Buffer.alloc(8192, 0x5a))
  const corrupt = await cli(['forget', '--config', dir, 'taro@example.jp', 'hanako@example.jp'], os.tmpdir())
  t.equal(corrupt.code, 1)
  t.equal(corrupt.stdout, '')
  t.match(corrupt.stderr, /shop-notice\.sqlite: the store could not be opened: file is not a database; not forgotten: taro@example\.jp hanako@example\.jp\n$/)
})

t.test('backend none: nothing to forget, exit 0', async (t) => {
  const dir = haraka(t, '[store]\nbackend=none\n')
  const r = await cli(['forget', '--config', dir, 'taro@example.jp'], os.tmpdir())
  t.equal(r.code, 0)
  t.match(r.stderr, /\[store\] backend is none: nothing is remembered, so there is nothing to forget/)
  t.equal(r.stdout, 'taro@example.jp\t0\tnot remembered: nothing to forget\n')
  t.same(fs.readdirSync(dir), ['config'])
})

t.test('an invalid configuration exits 2 naming file and key; the store is not touched', async (t) => {
  for (const [ini, message] of [
    ['[store]\nbackend=memcached\n', /shop-notice\.ini: \[store\] backend: expected one of sqlite, redis, none, got "memcached"/],
    ['[store]\nbackend=redis\n[redis]\nport=99999\n', /shop-notice\.ini: \[redis\] port: expected a port number/],
  ] as const) {
    const dir = haraka(t, ini)
    const r = await cli(['forget', '--config', dir, 'taro@example.jp'], os.tmpdir())
    t.equal(r.code, 2, ini)
    t.match(r.stderr, /^shop-notice: invalid configuration: /)
    t.match(r.stderr, message)
    t.equal(r.stdout, '')
  }
})

t.test('usage: exit 2 before the store is opened; --help', async (t) => {
  const dir = haraka(t, '[store]\nbackend=sqlite\n')
  for (const [args, why] of [
    [['forget'], /no ADDRESS given/],
    [['forget', 'taro@example.jp', 'nobody'], /nobody: not an address/],
    [['forget', '--all'], /Unknown option '--all'/],
  ] as const) {
    const r = await cli([...args, '--config', dir], os.tmpdir())
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, why)
    t.match(r.stderr, /Usage: shop-notice forget \[options\] ADDRESS\.\.\./)
    t.equal(r.stdout, '')
  }
  t.same(fs.readdirSync(dir), ['config'], 'nothing opened')
  const help = await cli(['forget', '--help'], os.tmpdir())
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: shop-notice forget/)
  t.match(help.stdout, /\n {2}--config DIR /, 'the usage keeps its lines')
  const all = await cli(['--help'], os.tmpdir())
  t.match(all.stdout, /forget ADDRESS\.\.\. /)
  t.match(all.stdout, /Usage: shop-notice forget/)
})

let skip: false | string
try {
  skip = redisSkipReason()
} catch (err) {
  t.fail((err as Error).message)
  skip = 'redis-server missing in CI (failed above)'
}
if (skip) t.comment(`SKIP: ${skip}`)

t.test('redis: learn two recipients, forget one, as [redis] selects; an unreachable Redis exits 1', { skip }, async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const dir = haraka(t, `[store]\nbackend=redis\n[redis]\nhost=127.0.0.1\nport=${redis.port}\n`)
  const s = pluginStore(t, dir)
  await learnTwo(t, s)
  const r = await cli(['forget', '--config', dir, 'Taro@example.jp'], os.tmpdir())
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, "Taro@example.jp\t4\tforgotten: 2 shops' contacts, 2 names\n")
  await checkForgotten(t, s)
  t.same(fs.readdirSync(dir), ['config'], 'no sqlite file made')

  const gone = await startRedis()
  const port = gone.port
  await gone.stop()
  const down = haraka(t, `[store]\nbackend=redis\n[redis]\nport=${port}\n`)
  const d = await cli(['forget', '--config', down, 'taro@example.jp'], os.tmpdir())
  t.equal(d.code, 1)
  t.equal(d.stdout, '')
  t.match(d.stderr, new RegExp(`redis 127\\.0\\.0\\.1:${port} db 0: the store could not be opened: .*ECONNREFUSED.*; not forgotten: taro@example.jp\n$`))
})

t.test('redis: a server that hangs mid-command ends the command (exit 1), naming what was not forgotten', { skip }, async (t) => {
  const { forgetCommand } = await import('../../dist/src/cli/forget.js')
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const dir = haraka(t, `[store]\nbackend=redis\n[redis]\nport=${redis.port}\n`)
  const s = pluginStore(t, dir)
  await learnTwo(t, s)
  await s.close()
  const out: string[] = []
  const err: string[] = []
  const io = {
    // the first address is done: the server hangs before the second (SIGSTOP)
    out: (l: string) => {
      out.push(l)
      redis.pause()
    },
    err: (l: string) => err.push(l),
  }
  const started = Date.now()
  const code = await forgetCommand(['--config', dir, 'hanako@example.jp', 'taro@example.jp'], io, { timeoutMs: 300 })
  redis.resume()
  t.equal(code, 1)
  t.same(out, ["hanako@example.jp\t2\tforgotten: 1 shop's contact, 1 name"])
  t.match(err.join('\n'), /redis 127\.0\.0\.1:\d+ db 0: taro@example\.jp: no answer within 0\.3 s \(it may still complete: run the command again to see\); not forgotten: taro@example\.jp/)
  t.ok(Date.now() - started < 20_000, 'bounded: the hung server did not hold the command')
})


t.test('redis over TLS: forget connects as [redis] tls_* say, client certificate included; an unreadable tls file exits 2', { skip: skip || opensslSkipReason() }, async (t) => {
  const certs = makeCerts()
  t.teardown(() => certs.remove())
  const client = { cert: certs.clientCert, key: certs.clientKey }
  const redis = await startRedis({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, authClients: true, client } })
  t.teardown(() => redis.stop())
  const tlsIni = (key: string): string =>
    `[store]\nbackend=redis\n[redis]\nhost=127.0.0.1\nport=${redis.port}\ntls=true\ntls_ca=${certs.ca}\ntls_cert=${certs.clientCert}\ntls_key=${key}\n`
  const dir = haraka(t, tlsIni(certs.clientKey))
  const s = pluginStore(t, dir)
  await learnTwo(t, s)
  const r = await cli(['forget', '--config', dir, 'Taro@example.jp'], os.tmpdir())
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, "Taro@example.jp\t4\tforgotten: 2 shops' contacts, 2 names\n")
  await checkForgotten(t, s)

  const missing = path.join(certs.dir, 'gone.key')
  const bad = await cli(['forget', '--config', haraka(t, tlsIni(missing)), 'taro@example.jp'], os.tmpdir())
  t.equal(bad.code, 2)
  t.match(bad.stderr, `shop-notice.ini: [redis] tls_key: cannot read ${missing}: ENOENT`)
})
