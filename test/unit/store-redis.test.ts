/**
 * The redis backend against a real redis-server (test/helpers/redis-server.ts). Skipped, with
 * a line saying so, where redis-server is not installed; in CI (CI=true) that is a failure.
 */
import t, { type Test } from 'tap'

import { type StoreConfig, type StoreFailure, RedisStore, parseStoreConfig } from '../../dist/src/store/index.js'
import { type RedisServer, redisSkipReason, startRedis } from '../helpers/redis-server'

const DAY = 86_400_000

let skip: false | string
try {
  skip = redisSkipReason()
} catch (err) {
  t.fail((err as Error).message)
  skip = 'redis-server missing in CI (failed above)'
}
if (skip) t.comment(`SKIP: ${skip}`)

const config = (port: number, store: Record<string, unknown> = {}): StoreConfig =>
  parseStoreConfig({ store: { backend: 'redis', timeout_ms: 200, ...store }, redis: { host: '127.0.0.1', port } }, 'shop-notice.ini').value

function relay(t: Test, port: number, store: Record<string, unknown> = {}, now?: () => number) {
  const failures: StoreFailure[] = []
  const s = new RedisStore(config(port, store), { baseDir: '/nonexistent', onFailure: (f) => failures.push(f), ...(now ? { now } : {}) })
  t.teardown(() => s.close())
  return { s, failures }
}


/** resolves with how long `p` took */
const timed = async <T>(p: Promise<T>): Promise<[T, number]> => {
  const start = performance.now()
  const v = await p
  return [v, performance.now() - start]
}

t.test('redis', { skip }, async (t) => {
  let redis: RedisServer = await startRedis()
  t.teardown(() => redis.stop())

  await t.test('two relays share one secret and one memory', async (t) => {
    const a = relay(t, redis.port)
    t.equal(await a.s.ready(), true, 'relay A connected')
    const secret = await redis.command('GET', 'shop-notice:secret')
    t.match(secret, /^\$64\r\n[0-9a-f]{64}\r\n$/, 'A made the secret in Redis')
    const b = relay(t, redis.port)
    t.equal(await b.s.ready(), true, 'relay B connected')
    t.equal(await redis.command('GET', 'shop-notice:secret'), secret, 'B kept it (SET NX)')

    t.equal((await b.s.recall('taro@example.jp', 'amazon', ['山田太郎様'])).firstContact, true)
    t.equal(await a.s.learn('Taro@Example.jp', 'amazon', ['山田 太郎 様']), true)
    const r = await b.s.recall('taro@example.jp', 'amazon', ['山田太郎さま', 'Hanako Suzuki'])
    t.equal(r.ok, true)
    t.equal(r.firstContact, false, 'what A learned, B recalls')
    t.equal(r.seen?.count, 1)
    t.equal(r.knownNames, 1)
    t.same(r.matchedNames, ['山田太郎さま'])
    t.same(r.unknownNames, ['Hanako Suzuki'])
    await b.s.learn('taro@example.jp', 'amazon', [])
    t.equal((await a.s.recall('taro@example.jp', 'amazon', [])).seen?.count, 2)
    t.same(a.failures, [])
    t.same(b.failures, [])

    const keys = await redis.command('KEYS', '*')
    for (const plain of ['taro', 'example.jp', 'amazon', 'Hanako']) t.notOk(keys.includes(plain), `no ${plain} in any key`)
    t.match(keys, /shop-notice:c:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{22}/)
    t.match(keys, /shop-notice:n:[A-Za-z0-9_-]{22}/)
  })

  await t.test('keys expire retention_days after the last notice; names are capped per recipient', async (t) => {
    // the earlier subtest's keys out of the way (the secret stays)
    await redis.command('EVAL', "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", '0', 'shop-notice:[cn]:*')
    const { s } = relay(t, redis.port, { retention_days: 2 })
    t.equal(await s.ready(), true)
    const names = Array.from({ length: 40 }, (_, i) => `Person ${i}`)
    for (let i = 0; i < names.length; i += 8) await s.learn('cap@example.jp', 'shop', names.slice(i, i + 8), Date.now() + i)
    const r = await s.recall('cap@example.jp', 'shop', ['Person 0', 'Person 39'])
    t.equal(r.knownNames, 32)
    t.same(r.unknownNames, ['Person 0'], 'the oldest names went')
    const keys = (await redis.command('KEYS', 'shop-notice:[cn]:*')).split('\r\n').filter((k) => k.startsWith('shop-notice:'))
    t.equal(keys.length, 2, 'one contact, one name set')
    for (const key of keys) {
      const pttl = Number((await redis.command('PTTL', key)).slice(1))
      t.ok(pttl > 0 && pttl <= 2 * DAY, `${key.slice(0, 16)}… expires (${pttl} ms)`)
    }
  })

  await t.test('what is past retention is not remembered, whatever the key TTL', async (t) => {
    let now = Date.now()
    const { s } = relay(t, redis.port, { retention_days: 1 }, () => now)
    t.equal(await s.ready(), true)
    await s.learn('late@example.jp', 'shop', ['Late Name'], now)
    now += 2 * DAY
    const r = await s.recall('late@example.jp', 'shop', ['Late Name'])
    t.equal(r.firstContact, true)
    t.equal(r.knownNames, 0)
    t.same(r.unknownNames, ['Late Name'])
  })

  await t.test('a hung Redis costs at most timeout_ms; counted; back to work when it resumes', async (t) => {
    const { s, failures } = relay(t, redis.port)
    t.equal(await s.ready(), true)
    await s.learn('hang@example.jp', 'shop', [])
    redis.pause()
    const [r, ms] = await timed(s.recall('hang@example.jp', 'shop', []))
    const [learned, ms2] = await timed(s.learn('hang@example.jp', 'shop', []))
    redis.resume()
    t.equal(r.ok, false, 'nothing remembered')
    t.equal(learned, false)
    // behaviour, not speed: it waited for timeout_ms (200 ms), and gave up instead of waiting for Redis
    // (without the timeout it would wait until Redis resumes, below); the upper bound leaves room for a loaded machine
    t.ok(ms >= 190 && ms < 3000, `recall gave up after ${ms.toFixed(0)} ms`)
    t.ok(ms2 < 3000, `learn gave up after ${ms2.toFixed(0)} ms`)
    t.match(failures, [
      { backend: 'redis', op: 'recall', reason: 'timeout' },
      { backend: 'redis', op: 'learn', reason: 'timeout' },
    ])
    // the answers held up arrive and are discarded; then the store answers again
    await new Promise((r) => setTimeout(r, 100))
    t.equal((await s.recall('hang@example.jp', 'shop', [])).firstContact, false)
  })

  await t.test('a damaged secret in Redis: counted, nothing remembered; once removed, the relay makes one and goes on', async (t) => {
    const good = await redis.command('GET', 'shop-notice:secret')
    await redis.command('SET', 'shop-notice:secret', 'not-a-secret')
    const { s, failures } = relay(t, redis.port)
    t.equal(await s.ready(500), false)
    t.match(failures, [{ op: 'open', reason: 'error', error: { message: /not 64 hex digits/ } }])
    t.equal((await s.recall('a@example.jp', 'shop', [])).ok, false)
    await redis.command('DEL', 'shop-notice:secret')
    // each failing call has the secret read again; one soon finds none, makes it, and the store answers
    let ok = false
    for (const deadline = Date.now() + 3000; !ok && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      ok = (await s.recall('a@example.jp', 'shop', [])).ok
    }
    t.equal(ok, true)
    t.equal(await s.ready(), true)
    t.not(await redis.command('GET', 'shop-notice:secret'), good, 'a new secret (what was learned before is forgotten)')
  })

  await t.test('Redis killed mid-test: failures counted at once, nothing thrown; it comes back empty and the relays agree again', async (t) => {
    const a = relay(t, redis.port)
    const b = relay(t, redis.port)
    t.equal(await a.s.ready(), true)
    t.equal(await b.s.ready(), true)
    await a.s.learn('kill@example.jp', 'shop', ['Kill Name'])
    const port = redis.port
    await redis.kill()
    await new Promise((r) => setTimeout(r, 50))
    const [r, ms] = await timed(b.s.recall('kill@example.jp', 'shop', ['Kill Name']))
    t.equal(r.ok, false)
    t.ok(ms < 100, `recall failed at once (${ms.toFixed(1)} ms): commands are not queued while disconnected`)
    const [learned, ms2] = await timed(a.s.learn('kill@example.jp', 'shop', []))
    t.equal(learned, false)
    t.ok(ms2 < 100, `learn too (${ms2.toFixed(1)} ms)`)
    t.match(b.failures, [{ op: 'recall', reason: 'unavailable' }])
    t.match(a.failures, [{ op: 'learn', reason: 'unavailable' }])
    t.same(b.s.failures(), { open: 0, recall: 1, learn: 0, prune: 0 })

    // back on the same port, with no data: the first relay to reconnect puts the shared secret back
    redis = await startRedis({ port })
    t.equal(await a.s.ready(6000), true, 'A reconnected')
    t.equal(await b.s.ready(6000), true, 'B reconnected')
    t.equal((await b.s.recall('kill@example.jp', 'shop', [])).firstContact, true, 'the memory went with the data')
    await a.s.learn('kill@example.jp', 'shop', ['Kill Name'])
    t.equal((await b.s.recall('kill@example.jp', 'shop', ['Kill Name'])).matchedNames.length, 1, 'and the relays share again')
  })

  await t.test('forget: every contact key and the name set of one recipient, found by SCAN (never KEYS); the others stay', async (t) => {
    const a = relay(t, redis.port)
    const b = relay(t, redis.port)
    t.equal(await a.s.ready(), true)
    t.equal(await b.s.ready(), true)
    for (const shop of ['amazon', 'rakuten', 'yodobashi', 'example-shop.jp']) await a.s.learn('taro@example.jp', shop, ['山田太郎様', 'Taro Yamada'])
    await a.s.learn('hanako@example.jp', 'amazon', ['鈴木花子様'])
    await a.s.learn('taro+shop@example.jp', 'amazon', ['Taro Yamada'])
    // enough other keys that SCAN walks many pages (SCAN_COUNT a step)
    await redis.command('EVAL', "for i = 1, 5000 do redis.call('SET', 'shop-notice:c:other' .. i .. ':x', '1', 'PX', 600000) end", '0')
    const calls = async (cmd: string): Promise<number> => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await redis.command('INFO', 'commandstats'))?.[1] ?? 0)
    const [keysBefore, scansBefore] = [await calls('keys'), await calls('scan')]

    t.same(await b.s.forget('Taro@EXAMPLE.jp'), { recipient: 'taro@example.jp', contacts: 4, names: 2 })
    t.equal(await calls('keys'), keysBefore, 'no KEYS')
    t.ok((await calls('scan')) - scansBefore > 2, 'SCAN, page by page')

    const taro = await a.s.recall('taro@example.jp', 'rakuten', ['Taro Yamada'])
    t.equal(taro.ok, true)
    t.equal(taro.firstContact, true, 'what B forgot, A no longer recalls')
    t.equal(taro.knownNames, 0)
    t.equal((await a.s.recall('hanako@example.jp', 'amazon', ['鈴木 花子 様'])).matchedNames.length, 1, 'another recipient is untouched')
    t.equal((await a.s.recall('taro+shop@example.jp', 'amazon', [])).firstContact, false, 'a sub-address is a mailbox of its own')
    t.equal(await redis.command('EXISTS', 'shop-notice:c:other1:x'), ':1\r\n', 'unrelated keys stay')
    t.same(await a.s.forget('taro@example.jp'), { recipient: 'taro@example.jp', contacts: 0, names: 0 }, 'a second time: zeros, not an error')
    t.same(a.failures, [])
    t.same(b.failures, [])
    await redis.command('EVAL', "for i = 1, 5000 do redis.call('DEL', 'shop-notice:c:other' .. i .. ':x') end", '0')
  })

  await t.test('forget rejects when Redis is not there; refuses what is not an address', async (t) => {
    const gone = await startRedis()
    const port = gone.port
    await gone.stop()
    const { s } = relay(t, port)
    await t.rejects(s.forget('a@example.jp'), { name: 'StoreUnavailable' })
    await t.rejects(s.forget('nobody'), TypeError)
  })

  await t.test('no Redis at the address: ready() says so, calls fail at once', async (t) => {
    // a port where nothing listens: this server's, once stopped
    const gone = await startRedis()
    const port = gone.port
    await gone.stop()
    const { s, failures } = relay(t, port)
    t.equal(await s.ready(300), false)
    const [r, ms] = await timed(s.recall('a@example.jp', 'shop', []))
    t.equal(r.ok, false)
    t.ok(ms < 100, `${ms.toFixed(1)} ms`)
    t.match(failures, [{ op: 'recall', reason: 'unavailable' }])
    await s.close()
    t.equal((await s.recall('a@example.jp', 'shop', [])).ok, false, 'closed: still nothing thrown')
  })
})
