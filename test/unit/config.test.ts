import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { ConfigError, INI_BOOLEANS, checkYamlFiles, harakaSource, isServerSpec, loadSettings, parseIni } from '../../dist/src/config/settings.js'
import { configFor } from '../../dist/src/config/sources.js'

t.test('defaults when the file is empty', async (t) => {
  const { value, warnings } = parseIni({})
  t.same(warnings, [])
  t.equal(value.main.authserv_id, '')
  t.equal(value.skip.relaying, true)
  t.equal(value.skip.private_ip, false)
  t.same(value.dns.servers, [])
  t.equal(value.actions.mode, 'quarantine')
  t.ok(value.thresholds.suspicious < value.thresholds.spoofed)
  t.equal(value.scores.BRAND_NOT_AUTHENTICATED, 6)
})

t.test('booleans declared for haraka-config follow the schema defaults', async (t) => {
  t.ok(INI_BOOLEANS.includes('+skip.relaying'))
  t.ok(INI_BOOLEANS.includes('-skip.private_ip'))
  t.ok(INI_BOOLEANS.includes('+actions.defer_on_dns_error'))
})

t.test('values are taken and typed', async (t) => {
  const { value } = parseIni({
    main: { authserv_id: 'mx.example.net' },
    dns: { servers: '127.0.0.1:5353, 10.0.0.1,[::1]:53', timeout_ms: 500 },
    actions: { mode: 'reject', subject_prefix: '[SPOOF?]' },
    thresholds: { suspicious: 4, spoofed: 8, reject: 8 },
    scores: { AUTH_NONE: 2.5 },
    auth: { trusted_authserv_ids: 'mx1.example.net mx2.example.net' },
  })
  t.equal(value.main.authserv_id, 'mx.example.net')
  t.same(value.dns.servers, ['127.0.0.1:5353', '10.0.0.1', '[::1]:53'])
  t.equal(value.dns.timeout_ms, 500)
  t.equal(value.actions.mode, 'reject')
  t.equal(value.actions.subject_prefix, '[SPOOF?]')
  t.equal(value.scores.AUTH_NONE, 2.5)
  t.same(value.auth.trusted_authserv_ids, ['mx1.example.net', 'mx2.example.net'])
})

t.test('every invalid key is refused with file, key and problem', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['unknown mode', { actions: { mode: 'delete' } }, /^shop-notice\.ini: \[actions\] mode: expected one of monitor, tag, quarantine, reject, got "delete"$/],
    ['timeout not a number', { dns: { timeout_ms: 'fast' } }, /\[dns\] timeout_ms: expected a positive integer, got "fast"/],
    ['timeout zero', { dns: { timeout_ms: 0 } }, /\[dns\] timeout_ms: expected a positive integer/],
    ['boolean not a boolean', { skip: { relaying: 'yes' } }, /\[skip\] relaying: expected true or false/],
    ['bad resolver', { dns: { servers: '127.0.0.1, dns.example.net' } }, /\[dns\] servers\[1\]: not an ip or ip:port: "dns.example.net"/],
    ['bad port', { dns: { servers: '127.0.0.1:99999' } }, /\[dns\] servers\[0\]: not an ip or ip:port/],
    ['thresholds out of order', { thresholds: { suspicious: 10, spoofed: 5 } }, /\[thresholds\] spoofed: must be greater than suspicious \(10\), got 5/],
    ['reject below spoofed', { thresholds: { reject: 3 } }, /\[thresholds\] reject: must be at least spoofed/],
    ['score not a number', { scores: { AUTH_NONE: 'high' } }, /\[scores\] AUTH_NONE: expected a number, got "high"/],
    ['threshold not a number', { thresholds: { spoofed: 'x' } }, /\[thresholds\] spoofed: expected a number/],
  ]
  for (const [name, raw, re] of cases) {
    t.throws(() => parseIni(raw), re, name)
    try {
      parseIni(raw)
    } catch (err) {
      t.type(err, ConfigError, `${name}: a ConfigError`)
      t.equal((err as ConfigError).file, 'shop-notice.ini')
    }
  }
})

t.test('unknown keys, sections and symbols are warnings, not errors', async (t) => {
  const { warnings } = parseIni({ dns: { server: '1.1.1.1' }, colour: { x: 1 }, scores: { NOT_A_SYMBOL: 3 }, main: {} })
  t.match(warnings, [/\[dns\] server: unknown key/, /\[scores\] NOT_A_SYMBOL: unknown symbol/, /\[colour\]: unknown section/])
})

t.test('isServerSpec', async (t) => {
  for (const ok of ['127.0.0.1', '127.0.0.1:53', '::1', '[::1]:5353', '2001:db8::1']) t.ok(isServerSpec(ok), ok)
  for (const bad of ['', 'localhost', '127.0.0.1:0', '127.0.0.1:x', '300.1.1.1', '[::1]']) t.notOk(isServerSpec(bad), bad)
})

const tmpDir = (t: Test): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-config-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('checkYamlFiles names the file and the line of a syntax error', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'shop-notice.retailers.yaml')
  fs.writeFileSync(file, 'retailers:\n  amazon:\n    names: [Amazon\n    sending_domains: [amazon.com]\n')
  t.throws(() => checkYamlFiles([file]), new RegExp(`^${file.replace(/[.]/g, '\\.')}: line \\d+: `))
  t.doesNotThrow(() => checkYamlFiles([path.join(dir, 'missing.yaml')]), 'a missing file is not an error')
})

t.test('the shipped configuration loads cleanly', async (t) => {
  const { value, warnings } = loadSettings(harakaSource(configFor(undefined)))
  t.same(warnings, [])
  t.ok(value.registry.brands.size >= 10)
  t.equal(value.actions.mode, 'quarantine')
})

t.test('an admin folder overrides the package defaults key by key', async (t) => {
  const dir = tmpDir(t)
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'shop-notice.ini'), '[actions]\nmode=monitor\n[skip]\nprivate_ip=true\n[dns]\nservers=127.0.0.1:5300\n')
  fs.writeFileSync(
    path.join(dir, 'config', 'shop-notice.retailers.yaml'),
    'retailers:\n  testshop:\n    names: [TestShop]\n    sending_domains: [testshop.jp]\n',
  )
  const { value } = loadSettings(harakaSource(configFor(dir)))
  t.equal(value.actions.mode, 'monitor')
  t.equal(value.skip.private_ip, true)
  t.equal(value.skip.relaying, true, 'keys the admin did not set keep the package default')
  t.same(value.dns.servers, ['127.0.0.1:5300'])
  t.equal(value.thresholds.spoofed, 10)
  t.ok(value.registry.brands.has('testshop'), 'an admin brand is added')
  t.ok(value.registry.brands.has('amazon'), 'the shipped brands stay')
})

t.test('a broken admin registry is refused naming that file', async (t) => {
  const dir = tmpDir(t)
  fs.mkdirSync(path.join(dir, 'config'))
  const file = path.join(dir, 'config', 'shop-notice.retailers.yaml')
  fs.writeFileSync(file, 'retailers:\n  bad: [\n')
  t.throws(() => loadSettings(harakaSource(configFor(dir))), { name: 'ConfigError', file })
})
