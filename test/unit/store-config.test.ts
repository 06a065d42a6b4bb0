import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import t from 'tap'

import { ConfigError } from '../../dist/src/shared/errors.js'
import { redisTlsOptions } from '../../dist/src/store/config.js'
import { STORE_DEFAULTS, parseStoreConfig } from '../../dist/src/store/index.js'
import { makeCerts, opensslSkipReason } from '../helpers/tls-certs'

const NO_TLS = { tls: false, tls_ca: '', tls_cert: '', tls_key: '', tls_servername: '' }

const FILE = '/etc/haraka/config/shop-notice.ini'

t.test('defaults when neither section is given', async (t) => {
  const { value, warnings } = parseStoreConfig({}, FILE)
  t.same(warnings, [])
  t.same(value, {
    backend: 'sqlite',
    path: 'var/shop-notice.sqlite',
    retention_days: 400,
    max_entries: 1_000_000,
    timeout_ms: 200,
    redis: { host: '127.0.0.1', port: 6379, db: 0, username: '', password: '', ...NO_TLS },
  })
  t.equal(value.backend, STORE_DEFAULTS.store.backend)
})

t.test('values as haraka-config gives them (numbers, strings, empties)', async (t) => {
  const { value, warnings } = parseStoreConfig(
    {
      store: { backend: 'Redis', path: '/var/lib/haraka/memory.sqlite', retention_days: 30, max_entries: '5000', timeout_ms: '' },
      redis: { host: 'redis.internal.example', port: 6380, db: 4, password: 12345, username: 'haraka' },
    },
    FILE,
  )
  t.same(warnings, [])
  t.equal(value.backend, 'redis')
  t.equal(value.path, '/var/lib/haraka/memory.sqlite')
  t.equal(value.retention_days, 30)
  t.equal(value.max_entries, 5000)
  t.equal(value.timeout_ms, 200, 'an empty value takes the default')
  t.same(value.redis, { host: 'redis.internal.example', port: 6380, db: 4, username: 'haraka', password: '12345', ...NO_TLS })
  t.equal(parseStoreConfig({ redis: { host: '[::1]' } }, FILE).value.redis.host, '::1')
  t.equal(parseStoreConfig({ store: { backend: 'none' } }, FILE).value.backend, 'none')
})

t.test('unknown keys are warnings naming file, section and key', async (t) => {
  const { warnings } = parseStoreConfig({ store: { retention: 3 }, redis: { database: 2 } }, FILE)
  t.same(warnings, [`${FILE}: [store] retention: unknown key, ignored`, `${FILE}: [redis] database: unknown key, ignored`])
})

t.test('invalid values are refused naming file, section.key and what is wrong', async (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['backend', { store: { backend: 'mysql' } }, `${FILE}: [store] backend: expected one of sqlite, redis, none, got "mysql"`],
    ['path folder', { store: { path: 'var/' } }, `${FILE}: [store] path: expected a file, not a folder, got "var/"`],
    ['path NUL', { store: { path: 'a\0b' } }, `${FILE}: [store] path: expected a file path, got "a\\u0000b"`],
    ['retention zero', { store: { retention_days: 0 } }, `${FILE}: [store] retention_days: expected a whole number of days (1-36500), got 0`],
    ['retention fraction', { store: { retention_days: 1.5 } }, `${FILE}: [store] retention_days: expected a whole number of days (1-36500), got 1.5`],
    ['max_entries text', { store: { max_entries: 'many' } }, `${FILE}: [store] max_entries: expected a positive integer, got "many"`],
    ['timeout negative', { store: { timeout_ms: -5 } }, `${FILE}: [store] timeout_ms: expected milliseconds (1-60000), got -5`],
    ['port', { redis: { port: 70000 } }, `${FILE}: [redis] port: expected a port number (1-65535), got 70000`],
    ['db', { redis: { db: -1 } }, `${FILE}: [redis] db: expected a database number (0 or more), got -1`],
    ['host', { redis: { host: 'redis host' } }, `${FILE}: [redis] host: expected a host name or an IP address, got "redis host"`],
    ['section', { store: 'sqlite' }, `${FILE}: [store]: expected a section`],
    ['tls not a boolean', { redis: { tls: 'maybe' } }, `${FILE}: [redis] tls: expected true or false, got "maybe"`],
    ['tls_ca relative', { redis: { tls: true, tls_ca: 'ca.pem' } }, `${FILE}: [redis] tls_ca: expected the absolute path of a PEM file, got "ca.pem"`],
    ['tls_cert without key', { redis: { tls: true, tls_cert: '/etc/ssl/haraka.pem' } }, `${FILE}: [redis] tls_key: missing: [redis] tls_cert is set, and a client certificate needs its private key`],
    ['tls_key without cert', { redis: { tls: true, tls_key: '/etc/ssl/haraka.key' } }, `${FILE}: [redis] tls_cert: missing: [redis] tls_key is set, and a private key needs its client certificate`],
    ['tls_ca while tls is false', { redis: { tls_ca: '/etc/ssl/ca.pem' } }, `${FILE}: [redis] tls_ca: set, but [redis] tls is false, so the connection would be plain TCP: set tls=true, or remove it`],
    ['tls_servername while tls is false', { redis: { tls: 'false', tls_servername: 'redis.example.net' } }, `${FILE}: [redis] tls_servername: set, but [redis] tls is false, so the connection would be plain TCP: set tls=true, or remove it`],
    ['tls_servername', { redis: { tls: true, tls_servername: 'a b' } }, `${FILE}: [redis] tls_servername: expected a host name or an IP address, got "a b"`],
  ]
  for (const [name, sections, message] of cases) {
    t.throws(() => parseStoreConfig(sections, FILE), { name: 'ConfigError', message }, name)
    try {
      parseStoreConfig(sections, FILE)
    } catch (err) {
      t.ok(err instanceof ConfigError, `${name}: a ConfigError`)
      t.equal((err as ConfigError).file, FILE)
    }
  }
})

t.test('[redis] tls keys as given; tls_* files read by redisTlsOptions', async (t) => {
  const { value } = parseStoreConfig(
    { store: { backend: 'redis' }, redis: { host: 'redis.internal.example', tls: 'true', tls_ca: ' /etc/ssl/redis-ca.pem ', tls_cert: '/etc/ssl/c.pem', tls_key: '/etc/ssl/c.key', tls_servername: 'Redis.Example.net' } },
    FILE,
  )
  t.same(value.redis, {
    host: 'redis.internal.example',
    port: 6379,
    db: 0,
    username: '',
    password: '',
    tls: true,
    tls_ca: '/etc/ssl/redis-ca.pem',
    tls_cert: '/etc/ssl/c.pem',
    tls_key: '/etc/ssl/c.key',
    tls_servername: 'Redis.Example.net',
  })
  t.equal(redisTlsOptions(parseStoreConfig({}, FILE).value.redis, FILE), undefined, 'tls false: no options, no file read')
  const sys = redisTlsOptions(parseStoreConfig({ redis: { tls: true } }, FILE).value.redis, FILE)
  t.equal(sys?.rejectUnauthorized, true, 'verification on')
  t.ok(Array.isArray(sys?.ca) && (sys.ca as string[]).length > 0, 'no tls_ca: the default CAs')
  t.equal(sys?.servername, undefined, 'no SNI for an IP address')

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-tls-config-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const notPem = path.join(dir, 'not.pem')
  fs.writeFileSync(notPem, 'hello\n')
  const tlsWith = (redis: Record<string, unknown>) => parseStoreConfig({ redis: { tls: true, ...redis } }, FILE).value.redis
  t.throws(() => redisTlsOptions(tlsWith({ tls_ca: path.join(dir, 'missing.pem') }), FILE), {
    name: 'ConfigError',
    message: `${FILE}: [redis] tls_ca: cannot read ${path.join(dir, 'missing.pem')}: ENOENT`,
  })
  t.throws(() => redisTlsOptions(tlsWith({ tls_ca: dir }), FILE), { message: `${FILE}: [redis] tls_ca: cannot read ${dir}: EISDIR` })
  t.throws(() => redisTlsOptions(tlsWith({ tls_ca: notPem }), FILE), { message: `${FILE}: [redis] tls_ca: ${notPem}: no PEM CERTIFICATE in it` })

  t.test('with real certificates (openssl)', { skip: opensslSkipReason() }, async (t) => {
    const certs = makeCerts()
    t.teardown(() => certs.remove())
    const o = redisTlsOptions(tlsWith({ host: 'redis.example.net', tls_ca: certs.ca, tls_cert: certs.clientCert, tls_key: certs.clientKey }), FILE)
    t.equal(o?.ca, fs.readFileSync(certs.ca, 'utf8'), 'tls_ca: only that CA')
    t.equal(o?.cert, fs.readFileSync(certs.clientCert, 'utf8'))
    t.equal(o?.servername, 'redis.example.net', 'SNI: host')
    t.throws(() => redisTlsOptions(tlsWith({ tls_ca: certs.ca, tls_cert: certs.clientCert, tls_key: certs.serverKey }), FILE), {
      message: new RegExp(`^${FILE}: \\[redis\\] tls_key: ${certs.serverKey} does not go with ${certs.clientCert}: .*key values mismatch`),
    })
    t.throws(() => redisTlsOptions(tlsWith({ tls_ca: certs.ca, tls_cert: certs.clientKey, tls_key: certs.clientKey }), FILE), {
      message: `${FILE}: [redis] tls_cert: ${certs.clientKey}: no PEM CERTIFICATE in it`,
    })
    t.throws(() => redisTlsOptions(tlsWith({ tls_ca: certs.ca, tls_cert: certs.clientCert, tls_key: certs.clientCert }), FILE), {
      message: `${FILE}: [redis] tls_key: ${certs.clientCert}: no PEM PRIVATE KEY in it`,
    })
  })
})
