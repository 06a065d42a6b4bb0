import t from 'tap'

import { ConfigError } from '../../dist/src/shared/errors.js'
import { STORE_DEFAULTS, parseStoreConfig } from '../../dist/src/store/index.js'

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
    redis: { host: '127.0.0.1', port: 6379, db: 0, username: '', password: '' },
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
  t.same(value.redis, { host: 'redis.internal.example', port: 6380, db: 4, username: 'haraka', password: '12345' })
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
