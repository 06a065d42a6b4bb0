/**
 * The redis backend over TLS, against a real redis-server listening with TLS only, with
 * certificates made at test time (test/helpers/tls-certs.ts, the `openssl` command). Skipped,
 * with a line saying so, where redis-server or openssl is missing; in CI (CI=true) that is a failure.
 */
import fs from 'node:fs'
import path from 'node:path'

import t, { type Test } from 'tap'

import { type StoreConfig, type StoreFailure, RedisStore, parseStoreConfig } from '../../dist/src/store/index.js'
import { redisSkipReason, startRedis } from '../helpers/redis-server'
import { type TestCerts, makeCerts, opensslSkipReason } from '../helpers/tls-certs'

let skip: false | string
try {
  skip = redisSkipReason() || opensslSkipReason()
} catch (err) {
  t.fail((err as Error).message)
  skip = 'redis-server or openssl missing in CI (failed above)'
}
if (skip) t.comment(`SKIP: ${skip}`)

const config = (port: number, redis: Record<string, unknown>): StoreConfig =>
  parseStoreConfig({ store: { backend: 'redis', timeout_ms: 500 }, redis: { host: '127.0.0.1', port, tls: true, ...redis } }, 'shop-notice.ini').value

function relay(t: Test, c: StoreConfig) {
  const failures: StoreFailure[] = []
  const s = new RedisStore(c, { baseDir: '/nonexistent', onFailure: (f) => failures.push(f) })
  t.teardown(() => s.close())
  return { s, failures }
}

/** a store that must not get in: not ready, recall answers "nothing remembered" at once, counted as unavailable */
async function refused(t: Test, c: StoreConfig, why: RegExp): Promise<void> {
  const { s, failures } = relay(t, c)
  t.equal(await s.ready(400), false, 'never ready')
  const start = performance.now()
  const r = await s.recall('a@example.jp', 'shop', ['Taro'])
  t.equal(r.ok, false, 'recall: ok false, the message goes on')
  t.ok(performance.now() - start < 100, 'at once')
  t.equal(await s.learn('a@example.jp', 'shop', []), false, 'learn: false')
  t.match(failures.filter((f) => f.op !== 'open'), [
    { backend: 'redis', op: 'recall', reason: 'unavailable' },
    { backend: 'redis', op: 'learn', reason: 'unavailable' },
  ])
  t.match(failures.find((f) => f.op === 'recall')?.error?.message, why, 'the reason is in the failure')
}

t.test('redis over TLS', { skip }, async (t) => {
  const certs: TestCerts = makeCerts()
  t.teardown(() => certs.remove())
  const server = { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }

  await t.test('server without client certificates', async (t) => {
    const redis = await startRedis({ tls: { ...server, authClients: false } })
    t.teardown(() => redis.stop())

    await t.test('two relays over TLS learn and recall', async (t) => {
      const a = relay(t, config(redis.port, { tls_ca: certs.ca }))
      const b = relay(t, config(redis.port, { tls_ca: certs.ca, tls_servername: 'localhost' }))
      t.equal(await a.s.ready(), true, 'A connected (name checked: 127.0.0.1)')
      t.equal(await b.s.ready(), true, 'B connected (name checked: localhost)')
      t.equal((await b.s.recall('taro@example.jp', 'amazon', ['Taro Yamada'])).firstContact, true)
      t.equal(await a.s.learn('taro@example.jp', 'amazon', ['Taro Yamada']), true)
      const r = await b.s.recall('taro@example.jp', 'amazon', ['Taro Yamada'])
      t.equal(r.ok, true)
      t.equal(r.firstContact, false, 'what A learned over TLS, B recalls')
      t.same(r.matchedNames, ['Taro Yamada'])
      t.same(a.failures, [])
      t.same(b.failures, [])
      t.match(await redis.command('KEYS', 'shop-notice:c:*'), /shop-notice:c:/, 'the contact is in this Redis')
    })

    await t.test('a certificate from another CA is refused', async (t) => {
      await refused(t, config(redis.port, { tls_ca: certs.otherCa }), /self-signed certificate in certificate chain/)
    })

    await t.test('without tls_ca, a private CA is not trusted', async (t) => {
      await refused(t, config(redis.port, {}), /self-signed certificate in certificate chain/)
    })

    await t.test('a name the certificate does not carry is refused', async (t) => {
      await refused(t, config(redis.port, { tls_ca: certs.ca, tls_servername: 'redis.example.net' }), /redis\.example\.net\. is not in the cert's altnames/)
    })

    await t.test('plain TCP to a TLS port gets nothing', async (t) => {
      const c = parseStoreConfig({ store: { backend: 'redis', timeout_ms: 300 }, redis: { host: '127.0.0.1', port: redis.port } }, 'shop-notice.ini').value
      const { s, failures } = relay(t, c)
      t.equal(await s.ready(400), false)
      t.equal((await s.recall('a@example.jp', 'shop', [])).ok, false)
      t.ok(failures.length > 0, 'counted')
    })

    await t.test('a tls file gone after the load: no connection at all, counted at open', async (t) => {
      const copy = path.join(certs.dir, 'ca-copy.pem')
      fs.copyFileSync(certs.ca, copy)
      const c = config(redis.port, { tls_ca: copy })
      fs.rmSync(copy)
      const { s, failures } = relay(t, c)
      t.match(failures, [{ op: 'open', reason: 'error', error: { message: /\[redis\] tls_ca: cannot read .*ca-copy\.pem: ENOENT/ } }])
      t.equal(await s.ready(200), false)
      t.equal((await s.recall('a@example.jp', 'shop', [])).ok, false)
    })
  })

  await t.test('tls=true against a plain-TCP Redis: refused, never plain text instead', async (t) => {
    const plain = await startRedis()
    t.teardown(() => plain.stop())
    await refused(t, config(plain.port, { tls_ca: certs.ca }), /redis 127\.0\.0\.1:\d+ not connected/)
    t.equal(await plain.command('EXISTS', 'shop-notice:secret'), ':0\r\n', 'nothing was written to it')
  })

  await t.test('server requiring client certificates', async (t) => {
    const redis = await startRedis({ tls: { ...server, authClients: true, client: { cert: certs.clientCert, key: certs.clientKey } } })
    t.teardown(() => redis.stop())

    await t.test('a client without a certificate is refused', async (t) => {
      await refused(t, config(redis.port, { tls_ca: certs.ca }), /certificate required/)
    })

    await t.test('a client with one gets in', async (t) => {
      const { s, failures } = relay(t, config(redis.port, { tls_ca: certs.ca, tls_cert: certs.clientCert, tls_key: certs.clientKey }))
      t.equal(await s.ready(), true)
      t.equal(await s.learn('hanako@example.jp', 'rakuten', []), true)
      t.equal((await s.recall('hanako@example.jp', 'rakuten', [])).seen?.count, 1)
      t.same(failures, [])
    })
  })
})
