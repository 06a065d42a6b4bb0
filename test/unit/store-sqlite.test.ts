import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t, { type Test } from 'tap'

import {
  MAX_NAMES_PER_RECIPIENT,
  type OpenOptions,
  type StoreConfig,
  type StoreFailure,
  SqliteStore,
  openStore,
  parseStoreConfig,
  secretFileOf,
} from '../../dist/src/store/index.js'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 10)

const config = (store: Record<string, unknown> = {}): StoreConfig => parseStoreConfig({ store }, 'shop-notice.ini').value

const tmp = (t: Test): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-store-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** a store on `dir` whose clock the test moves */
function open(t: Test, dir: string, store: Record<string, unknown> = {}, extra: Partial<OpenOptions> = {}) {
  const clock = { now: T0 }
  const failures: StoreFailure[] = []
  const s = new SqliteStore(config(store), {
    baseDir: dir,
    now: () => clock.now,
    onFailure: (f) => failures.push(f),
    pruneIntervalMs: 0,
    ...extra,
  })
  t.teardown(() => s.close())
  return { s, clock, failures }
}

t.test('the default path under the Haraka folder: folder made, db and key file 0600', async (t) => {
  const dir = tmp(t)
  const { s, failures } = open(t, dir)
  t.equal(await s.ready(), true)
  const db = path.join(dir, 'var', 'shop-notice.sqlite')
  t.equal(s.file, db)
  t.ok(fs.existsSync(db))
  t.equal(fs.statSync(db).mode & 0o777, 0o600)
  t.equal(fs.statSync(secretFileOf(db)).mode & 0o777, 0o600)
  t.match(fs.readFileSync(secretFileOf(db), 'utf8'), /^[0-9a-f]{64}\n$/)
  t.same(failures, [])
})

t.test('first contact, then remembered; names matched across spellings; per recipient and sender', async (t) => {
  const { s, clock } = open(t, tmp(t))
  const r0 = await s.recall('taro@example.jp', 'amazon', ['山田 太郎 様'])
  t.same(r0, { ok: true, firstContact: true, knownNames: 0, matchedNames: [], unknownNames: ['山田 太郎 様'] })

  t.equal(await s.learn('taro@example.jp', 'amazon', ['山田 太郎 様'], T0), true)
  clock.now = T0 + DAY
  t.equal(await s.learn('Taro@EXAMPLE.jp', 'Amazon', ['山田太郎さま'], T0 + DAY), true)

  const r1 = await s.recall('TARO@example.jp', 'amazon', ['山田太郎 様', '鈴木 花子 様'])
  t.equal(r1.ok, true)
  t.equal(r1.firstContact, false)
  t.same(r1.seen, { first: T0, last: T0 + DAY, count: 2 })
  t.equal(r1.knownNames, 1)
  t.same(r1.matchedNames, ['山田太郎 様'])
  t.same(r1.unknownNames, ['鈴木 花子 様'])

  const other = await s.recall('taro@example.jp', 'rakuten', ['山田太郎様'])
  t.equal(other.firstContact, true, 'another sender is a first contact')
  t.equal(other.knownNames, 1, 'names are per recipient, whatever the sender')
  t.same(other.matchedNames, ['山田太郎様'])

  const stranger = await s.recall('hanako@example.jp', 'amazon', ['山田太郎様'])
  t.equal(stranger.firstContact, true)
  t.equal(stranger.knownNames, 0, "another recipient knows nothing of this one's names")
})

t.test('only hashes are stored: no address, sender or name in the file', async (t) => {
  const dir = tmp(t)
  const { s } = open(t, dir)
  await s.learn('taro.yamada@example.jp', 'examplebrand', ['Yamada Taro', '山田太郎'])
  await s.close()
  const bytes = fs.readFileSync(path.join(dir, 'var', 'shop-notice.sqlite'))
  for (const plain of ['taro.yamada', 'example.jp', 'examplebrand', 'yamada', 'taro', '山田'.normalize(), 'やまだ']) {
    t.equal(bytes.indexOf(Buffer.from(plain)), -1, `${plain} not in the file`)
  }
})

t.test('two handles on one file act as two workers: one learns, the other recalls; one secret', async (t) => {
  const dir = tmp(t)
  const a = open(t, dir).s
  const b = open(t, dir).s
  await a.learn('taro@example.jp', 'amazon', ['Taro Yamada'], T0)
  const r = await b.recall('taro@example.jp', 'amazon', ['Yamada Taro'])
  t.equal(r.firstContact, false)
  t.same(r.matchedNames, ['Yamada Taro'])
  await b.learn('taro@example.jp', 'amazon', [], T0 + 1)
  t.equal((await a.recall('taro@example.jp', 'amazon', [])).seen?.count, 2)
})

t.test('processes starting together agree on one secret', async (t) => {
  const dir = tmp(t)
  const file = path.join(dir, 'store.sqlite.key')
  const secretJs = path.resolve(__dirname, '../../dist/src/store/secret.js')
  const code = `process.stdout.write(require(${JSON.stringify(secretJs)}).loadOrCreateSecretFile(${JSON.stringify(file)}))`
  const run = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      c.stdout.on('data', (d: Buffer) => (out += d.toString()))
      c.on('error', reject)
      c.on('exit', (status) => (status === 0 ? resolve(out) : reject(new Error(`exit ${status}`))))
    })
  const secrets = await Promise.all(Array.from({ length: 6 }, run))
  t.equal(new Set(secrets).size, 1, 'every process read the same secret')
  t.match(secrets[0], /^[0-9a-f]{64}$/)
  t.same(fs.readdirSync(dir), ['store.sqlite.key'], 'no temporary file left behind')
})

t.test('four worker processes opening a fresh file together and learning at once: nothing lost, no failure', async (t) => {
  const dir = tmp(t)
  const indexJs = path.resolve(__dirname, '../../dist/src/store/index.js')
  // timeout_ms is generous here: this checks that concurrent writers wait for each other, not how fast
  const code = `
    const { openStore, parseStoreConfig } = require(${JSON.stringify(indexJs)})
    const s = openStore(parseStoreConfig({ store: { timeout_ms: 5000 } }, 'x').value, { baseDir: ${JSON.stringify(dir)}, pruneIntervalMs: 0 })
    ;(async () => {
      const id = process.argv[1]
      for (let i = 0; i < 100; i++) {
        await s.learn('shared@example.jp', 'amazon', ['Shared Name'])
        await s.learn('w' + id + '-' + i + '@example.jp', 'amazon', ['Name ' + i])
      }
      process.stdout.write(JSON.stringify(s.failures()))
      await s.close()
    })()`
  const run = (id: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', code, String(id)], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      c.stdout.on('data', (d: Buffer) => (out += d.toString()))
      c.on('error', reject)
      c.on('exit', (status) => (status === 0 ? resolve(out) : reject(new Error(`exit ${status}`))))
    })
  const results = await Promise.all([0, 1, 2, 3].map(run))
  for (const r of results) t.same(JSON.parse(r), { open: 0, recall: 0, learn: 0, prune: 0 }, 'no failure in a worker')
  const { s } = open(t, dir)
  const shared = await s.recall('shared@example.jp', 'amazon', ['Shared Name'])
  t.equal(shared.seen?.count, 400, 'every learn of the shared contact counted')
  t.same(shared.matchedNames, ['Shared Name'])
  for (const id of [0, 3]) t.equal((await s.recall(`w${id}-99@example.jp`, 'amazon', [])).firstContact, false)
})

t.test('retention: what was not renewed within retention_days is forgotten, then pruned', async (t) => {
  const { s, clock } = open(t, tmp(t), { retention_days: 30 })
  await s.learn('old@example.jp', 'amazon', ['Old Name'], T0)
  await s.learn('new@example.jp', 'amazon', ['New Name'], T0 + 20 * DAY)
  clock.now = T0 + 29 * DAY
  t.equal((await s.recall('old@example.jp', 'amazon', [])).firstContact, false, 'day 29: remembered')
  clock.now = T0 + 31 * DAY
  const old = await s.recall('old@example.jp', 'amazon', ['Old Name'])
  t.equal(old.firstContact, true, 'day 31: forgotten even before the pruner ran')
  t.equal(old.knownNames, 0)
  t.equal((await s.recall('new@example.jp', 'amazon', [])).firstContact, false)

  t.same(await s.prune(true), { expired: 2, surplus: 0 }, 'one contact and one name deleted')

  // a renewed memory past retention starts again
  await s.learn('old@example.jp', 'amazon', [], T0 + 31 * DAY)
  t.same((await s.recall('old@example.jp', 'amazon', [])).seen, { first: T0 + 31 * DAY, last: T0 + 31 * DAY, count: 1 })
})

t.test('a stale row the pruner has not reached yet restarts on learn', async (t) => {
  const { s, clock } = open(t, tmp(t), { retention_days: 10 })
  await s.learn('a@example.jp', 'amazon', ['A'], T0)
  await s.learn('a@example.jp', 'amazon', ['A'], T0 + DAY)
  clock.now = T0 + 20 * DAY
  await s.learn('a@example.jp', 'amazon', ['A'], clock.now)
  t.same((await s.recall('a@example.jp', 'amazon', [])).seen, { first: clock.now, last: clock.now, count: 1 })
})

t.test('size bound: beyond max_entries the oldest rows go; the newest stay', async (t) => {
  const { s, clock } = open(t, tmp(t), { max_entries: 10 })
  for (let i = 0; i < 25; i++) await s.learn(`u${i}@example.jp`, 'amazon', [`Name ${i}`], T0 + i * 1000)
  clock.now = T0 + DAY
  t.same(await s.prune(true), { expired: 0, surplus: 30 }, '15 contacts and 15 names')
  for (let i = 0; i < 25; i++) {
    const r = await s.recall(`u${i}@example.jp`, 'amazon', [`Name ${i}`])
    t.equal(r.firstContact, i < 15, `u${i} ${i < 15 ? 'pruned' : 'kept'}`)
    t.equal(r.knownNames, i < 15 ? 0 : 1)
  }
})

t.test(`names per recipient are capped at ${MAX_NAMES_PER_RECIPIENT}, the most recent kept`, async (t) => {
  const { s } = open(t, tmp(t))
  for (let i = 0; i < MAX_NAMES_PER_RECIPIENT + 8; i++) await s.learn('a@example.jp', `shop${i}`, [`Person ${i}`], T0 + i)
  const r = await s.recall('a@example.jp', 'shop0', ['Person 0', `Person ${MAX_NAMES_PER_RECIPIENT + 7}`])
  t.equal(r.knownNames, MAX_NAMES_PER_RECIPIENT)
  t.same(r.unknownNames, ['Person 0'])
  t.same(r.matchedNames, [`Person ${MAX_NAMES_PER_RECIPIENT + 7}`])
})

t.test('one worker prunes per interval; the others skip', async (t) => {
  const dir = tmp(t)
  const a = open(t, dir, { retention_days: 1 }, { pruneIntervalMs: 60_000 })
  const b = open(t, dir, { retention_days: 1 }, { pruneIntervalMs: 60_000 })
  await a.s.learn('x@example.jp', 'amazon', [], T0)
  await a.s.learn('y@example.jp', 'amazon', [], T0)
  a.clock.now = b.clock.now = T0 + 2 * DAY
  t.same(await a.s.prune(), { expired: 2, surplus: 0 })
  await a.s.learn('z@example.jp', 'amazon', [], T0)
  t.same(await b.s.prune(), { expired: 0, surplus: 0 }, 'b skipped: a pruned within the interval')
  b.clock.now += 60_000
  t.same(await b.s.prune(), { expired: 1, surplus: 0 }, 'a minute later b prunes')
})

t.test('input that names no one is ignored, not counted as a failure', async (t) => {
  const { s, failures } = open(t, tmp(t))
  t.equal((await s.recall('not-an-address', 'amazon', [])).ok, false)
  t.equal(await s.learn('a@example.jp', '', []), false)
  // a caller's type slip is not a rejection
  t.equal((await s.recall('a@example.jp', 'amazon', undefined as unknown as string[])).ok, true)
  t.equal(await s.learn(42 as unknown as string, 'amazon', [null, 'A'] as unknown as string[]), false)
  t.same(s.failures(), { open: 0, recall: 0, learn: 0, prune: 0 })
  t.same(failures, [])
})

t.test('a corrupt file: failures counted, nothing remembered, nothing thrown', async (t) => {
  const dir = tmp(t)
  fs.mkdirSync(path.join(dir, 'var'))
  fs.writeFileSync(path.join(dir, 'var', 'shop-notice.sqlite'), Buffer.alloc(8192, 0x5a))
  const { s, failures } = open(t, dir)
  t.equal(await s.ready(), false)
  const r = await s.recall('a@example.jp', 'amazon', ['A'])
  t.same(r, { ok: false, firstContact: false, knownNames: 0, matchedNames: [], unknownNames: [] })
  t.equal(await s.learn('a@example.jp', 'amazon', ['A']), false)
  t.same(await s.prune(true), { expired: 0, surplus: 0 })
  t.same(s.failures(), { open: 1, recall: 1, learn: 1, prune: 1 })
  t.match(failures[0], { backend: 'sqlite', op: 'open', reason: 'error', error: { message: /not a database/ } })
  t.match(failures[1], { op: 'recall', reason: 'unavailable' })
})

t.test('an unusable path (its folder is a file): counted, nothing thrown; a throwing listener is harmless', async (t) => {
  const dir = tmp(t)
  fs.writeFileSync(path.join(dir, 'var'), 'a file where the folder should be')
  const s = openStore(config(), {
    baseDir: dir,
    pruneIntervalMs: 0,
    onFailure: () => {
      throw new Error('listener bug')
    },
  })
  t.teardown(() => s.close())
  t.equal(s.backend, 'sqlite')
  t.equal((await s.recall('a@example.jp', 'amazon', [])).ok, false)
  t.equal(await s.learn('a@example.jp', 'amazon', []), false)
  t.same(s.failures(), { open: 1, recall: 1, learn: 1, prune: 0 })
})

t.test('closed: every call answers nothing remembered', async (t) => {
  const { s } = open(t, tmp(t))
  await s.close()
  t.equal((await s.recall('a@example.jp', 'amazon', [])).ok, false)
  t.equal(await s.learn('a@example.jp', 'amazon', []), false)
})

t.test('backend none remembers nothing and never fails', async (t) => {
  const s = openStore(config({ backend: 'none' }), { baseDir: tmp(t) })
  t.equal(s.backend, 'none')
  t.equal(await s.learn('a@example.jp', 'amazon', ['A']), false)
  t.same(await s.recall('a@example.jp', 'amazon', ['A']), { ok: false, firstContact: false, knownNames: 0, matchedNames: [], unknownNames: [] })
  t.equal(await s.ready(), false)
  t.same(s.failures(), { open: 0, recall: 0, learn: 0, prune: 0 })
  await s.close()
})

t.test('the timer prunes by itself (in a thread of its own)', async (t) => {
  const dir = tmp(t)
  const { s, clock } = open(t, dir, { retention_days: 1 }, { pruneIntervalMs: 40 })
  for (let i = 0; i < 250; i++) await s.learn(`t${i}@example.jp`, 'amazon', ['A'], T0)
  clock.now = T0 + 2 * DAY
  const rows = (): number => {
    const db = new DatabaseSync(s.file)
    try {
      return Number((db.prepare('SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM names) AS n').get() as { n: number }).n)
    } finally {
      db.close()
    }
  }
  t.equal(rows(), 500)
  const deadline = Date.now() + 10_000
  while (rows() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  t.equal(rows(), 0, 'every expired row deleted without a call')
  t.same(s.failures(), { open: 0, recall: 0, learn: 0, prune: 0 })
})

/** every byte of the database and its WAL, as a reader of the disk would find them */
const fileBytes = (file: string): Buffer =>
  Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)))

t.test('forget: every contact and name of one recipient, in any spelling; the others stay; a second time finds nothing', async (t) => {
  const { s, clock, failures } = open(t, tmp(t), { retention_days: 30 })
  await s.learn('taro@example.jp', 'amazon', ['山田 太郎 様', 'Taro Yamada'], T0)
  await s.learn('taro@example.jp', 'rakuten', ['山田太郎さま'], T0)
  await s.learn('taro@example.jp', 'old-shop.example', ['Old Name'], T0 - 40 * DAY) // past retention, not pruned yet
  await s.learn('hanako@example.jp', 'amazon', ['鈴木花子様'], T0)
  await s.learn('taro+shop@example.jp', 'amazon', ['Taro Yamada'], T0)
  clock.now = T0 + DAY

  const f = await s.forget('<TARO@Example.JP>')
  t.same(f, { recipient: 'taro@example.jp', contacts: 3, names: 3 }, 'three senders, three names (山田太郎 once), the stale row too')
  const taro = await s.recall('taro@example.jp', 'amazon', ['山田太郎様'])
  t.equal(taro.ok, true)
  t.equal(taro.firstContact, true, 'forgotten: a first contact again')
  t.equal(taro.knownNames, 0)
  t.equal((await s.recall('taro@example.jp', 'rakuten', [])).firstContact, true)

  const hanako = await s.recall('hanako@example.jp', 'amazon', ['鈴木 花子 様'])
  t.equal(hanako.firstContact, false, 'another recipient is untouched')
  t.same(hanako.matchedNames, ['鈴木 花子 様'])
  t.equal((await s.recall('taro+shop@example.jp', 'amazon', [])).firstContact, false, 'a sub-address is a mailbox of its own')

  t.same(await s.forget('taro@example.jp'), { recipient: 'taro@example.jp', contacts: 0, names: 0 }, 'nothing left: zeros, not an error')
  t.same(await s.forget('nobody@example.jp'), { recipient: 'nobody@example.jp', contacts: 0, names: 0 })

  t.equal(await s.learn('taro@example.jp', 'amazon', ['New Owner'], T0 + DAY), true, 'a later notice is learned afresh')
  const fresh = await s.recall('taro@example.jp', 'amazon', ['New Owner', '山田太郎'])
  t.same(fresh.seen, { first: T0 + DAY, last: T0 + DAY, count: 1 })
  t.same(fresh.matchedNames, ['New Owner'])
  t.same(failures, [])
  t.same(s.failures(), { open: 0, recall: 0, learn: 0, prune: 0 })
})

t.test('forget is one transaction: a failing delete of the names leaves the contacts too', async (t) => {
  const dir = tmp(t)
  const { s } = open(t, dir)
  await s.learn('taro@example.jp', 'amazon', ['Taro Yamada'], T0)
  const other = new DatabaseSync(s.file)
  t.teardown(() => other.close())
  other.exec(`CREATE TRIGGER refuse BEFORE DELETE ON names BEGIN SELECT RAISE(ABORT, 'names are kept'); END`)
  await t.rejects(s.forget('taro@example.jp'), /names are kept/)
  const r = await s.recall('taro@example.jp', 'amazon', ['Taro Yamada'])
  t.equal(r.firstContact, false, 'the contact, deleted first, came back with the rollback')
  t.same(r.matchedNames, ['Taro Yamada'])
  other.exec('DROP TRIGGER refuse')
  t.same(await s.forget('taro@example.jp'), { recipient: 'taro@example.jp', contacts: 1, names: 1 })
  t.equal((await s.recall('taro@example.jp', 'amazon', [])).firstContact, true)
})

t.test('forget overwrites: the recipient\'s hash is in no byte of the file or its WAL afterwards', async (t) => {
  const { Hasher } = await import('../../dist/src/store/secret.js')
  const { s } = open(t, tmp(t))
  await s.learn('taro@example.jp', 'amazon', ['Taro Yamada'], T0)
  await s.learn('hanako@example.jp', 'amazon', ['Hanako Suzuki'], T0)
  const hasher = new Hasher(fs.readFileSync(secretFileOf(s.file), 'utf8').trim())
  const taro = hasher.hash('rcpt', 'taro@example.jp')
  const hanako = hasher.hash('rcpt', 'hanako@example.jp')
  t.not(fileBytes(s.file).indexOf(taro), -1, 'before: the hash is on disk (the check can fail)')
  await s.forget('taro@example.jp')
  const after = fileBytes(s.file)
  t.equal(after.indexOf(taro), -1, 'after: zeroed in the database, and the WAL truncated')
  t.not(after.indexOf(hanako), -1, 'the other recipient is still there')
})

t.test('forget refuses what is not an address, and rejects when the store cannot answer', async (t) => {
  const dir = tmp(t)
  const { s } = open(t, dir)
  await t.rejects(s.forget('not-an-address'), TypeError)
  await t.rejects(s.forget(''), /not an address/)
  await s.close()
  await t.rejects(s.forget('a@example.jp'), { name: 'StoreUnavailable' })

  fs.writeFileSync(path.join(dir, 'var', 'broken.sqlite'), Buffer.alloc(8192, 0x5a))
  const broken = open(t, dir, { path: 'var/broken.sqlite' }).s
  await t.rejects(broken.forget('a@example.jp'), { name: 'StoreUnavailable' })
  t.equal(broken.failures().open, 1, 'the open failure is counted as always; forget itself is not a store op')

  const none = openStore(config({ backend: 'none' }), { baseDir: dir })
  t.same(await none.forget('A@example.jp'), { recipient: 'a@example.jp', contacts: 0, names: 0 })
  await none.close()
})
