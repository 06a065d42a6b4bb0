import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import YAML from 'yaml'

import { parseScores } from '../../dist/src/config/scores.js'
import {
  ConfigError,
  INI_BOOLEANS,
  checkYamlFiles,
  emptiedIniWarnings,
  harakaSource,
  isServerSpec,
  lintIni,
  loadSettings,
  parseIni,
} from '../../dist/src/config/settings.js'
import { configFor } from '../../dist/src/config/sources.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { applyComposites } from '../../dist/src/verdict/score.js'
import { SYMBOLS } from '../../dist/src/verdict/symbols.js'
import { makeCerts, opensslSkipReason } from '../helpers/tls-certs'

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

const SCORES = path.resolve(__dirname, '..', '..', 'config', 'shop-notice.scores.yaml')
const shippedScores = (): { scores: Record<string, unknown>; composites: Record<string, Record<string, unknown>> } =>
  YAML.parse(fs.readFileSync(SCORES, 'utf8'))

t.test('the shipped scores file gives every symbol of the code a score, and declares the composites', async (t) => {
  const raw = shippedScores()
  for (const name of Object.keys(SYMBOLS)) t.type(raw.scores[name], 'number', `${name} has a default score`)
  const { value, warnings } = parseScores(raw, SCORES)
  t.same(warnings, [])
  t.equal(value.scores.BRAND_NOT_AUTHENTICATED, 6)
  t.equal(value.composites.length, 2)
  t.equal(value.composites[0]?.when, 'BRAND_AUTHENTICATED')
  t.ok(value.composites[0]?.removes.includes('LINK_OFF_BRAND'))
  t.equal(value.composites[1]?.when, 'ATTACHMENT_ON_NOTICE')
  t.same(value.composites[1]?.removes, ['CONTENT_DETAILS_MISSING'], 'a notice whose document is attached has its details there')
  t.same(parseIni({}).value.scores, value.scores, 'parseIni takes the shipped scores when given no book')
})

t.test('the scores file refuses what the code does not know, naming file and key', async (t) => {
  const without = shippedScores()
  delete without.scores.AUTH_NONE
  const cases: [string, unknown, RegExp][] = [
    ['a symbol without a score', without, /^s\.yaml: scores\.AUTH_NONE: missing: every symbol needs a score$/],
    ['an unknown symbol', { ...shippedScores(), scores: { ...shippedScores().scores, LINK_HTPP: 1 } }, /^s\.yaml: scores\.LINK_HTPP: unknown symbol/],
    ['a score not a number', { ...shippedScores(), scores: { ...shippedScores().scores, LINK_HTTP: 'high' } }, /^s\.yaml: scores\.LINK_HTTP: expected a number, got "high"$/],
    [
      'a composite removing an unknown symbol',
      { ...shippedScores(), composites: { x: { when: 'BRAND_AUTHENTICATED', removes: ['LINK_HTTP', 'LINK_NOPE'] } } },
      /^s\.yaml: composites\.x\.removes\[1\]: expected a symbol name .*got "LINK_NOPE"$/,
    ],
    ['a composite of an unknown symbol', { ...shippedScores(), composites: { x: { when: 'NOPE', removes: [] } } }, /^s\.yaml: composites\.x\.when: expected a symbol name/],
    ['a composite removing itself', { ...shippedScores(), composites: { x: { when: 'LINK_HTTP', removes: ['LINK_HTTP'] } } }, /composites\.x\.removes: LINK_HTTP cannot remove itself/],
    ['an empty file', {}, /^s\.yaml: scores: missing: the file is empty/],
  ]
  for (const [name, raw, re] of cases) t.throws(() => parseScores(raw, 's.yaml'), re, name)
})

t.test('an admin scores file merges over the shipped one key by key; [scores] of the ini wins over both', async (t) => {
  const dir = tmpDir(t)
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'shop-notice.scores.yaml'), 'scores:\n  AUTH_NONE: 3\n  LINK_HTTP: 5\ncomposites:\n  brand_authenticated:\n    removes: [LINK_HTTP]\n')
  fs.writeFileSync(path.join(dir, 'config', 'shop-notice.ini'), '[scores]\nLINK_HTTP=0.5\n')
  const { value, warnings } = loadSettings(harakaSource(configFor(dir)))
  t.same(warnings, [])
  t.equal(value.scores.AUTH_NONE, 3, 'the admin file')
  t.equal(value.scores.LINK_HTTP, 0.5, 'the ini wins')
  t.equal(value.scores.BRAND_NOT_AUTHENTICATED, 6, 'the rest keep the shipped score')
  const attached = { name: 'notice_document_attached', when: 'ATTACHMENT_ON_NOTICE', removes: ['CONTENT_DETAILS_MISSING'], why: shippedScores().composites.notice_document_attached?.why }
  t.same(
    value.composites,
    [{ name: 'brand_authenticated', when: 'BRAND_AUTHENTICATED', removes: ['LINK_HTTP'], why: shippedScores().composites.brand_authenticated?.why }, attached],
    'removes replaced whole, the rest kept',
  )

  // haraka-config caches a file it read: each case in a folder of its own
  const folder = (scores: string): string => {
    const d = tmpDir(t)
    fs.mkdirSync(path.join(d, 'config'))
    fs.writeFileSync(path.join(d, 'config', 'shop-notice.scores.yaml'), scores)
    return d
  }
  const off = folder('composites:\n  brand_authenticated:\n    removes: []\n')
  t.same(loadSettings(harakaSource(configFor(off))).value.composites, [attached], '`removes: []` turns a composite off, the others kept')

  const typo = folder('scores:\n  BRAND_NOT_AUTHENTICATD: 9\n')
  const file = path.join(typo, 'config', 'shop-notice.scores.yaml')
  t.throws(() => loadSettings(harakaSource(configFor(typo))), { name: 'ConfigError', file, key: 'scores.BRAND_NOT_AUTHENTICATD' })
})

t.test('composites, as declared, remove the weight of what they name', async (t) => {
  const hits = [
    { symbol: 'BRAND_AUTHENTICATED' as const, options: [] },
    { symbol: 'LINK_HTTP' as const, options: [] },
    { symbol: 'AUTH_NONE' as const, options: [] },
  ]
  const composites = [{ name: 'x', when: 'BRAND_AUTHENTICATED' as const, removes: ['LINK_HTTP' as const], why: '' }]
  t.same(applyComposites(hits, composites).map((h) => [h.symbol, h.options]), [['BRAND_AUTHENTICATED', ['removed=LINK_HTTP']], ['AUTH_NONE', []]])
  t.same(applyComposites(hits, []), hits, 'no composites: nothing removed')
})

t.test('lintIni refuses a line that is neither section, key=value, comment nor blank, naming file and line', async (t) => {
  t.equal(lintIni('; c\n# c\n\n[actions]\nmode=tag\nsubject_prefix = [x] \\\n  more\nflag\n', 'f.ini'), 3, 'key=value, continued and bare keys count')
  t.equal(lintIni('; only comments\n\n', 'f.ini'), 0)
  t.throws(() => lintIni('[actions]\nmode: reject\n', 'f.ini'), /^f\.ini: line 2: not a section, key=value, comment or blank line: "mode: reject" \(write key=value\)$/)
  t.throws(() => lintIni('[actions]\nsubject prefix=x\n', 'f.ini'), /^f\.ini: line 2: /, 'a key of two words')
  t.throws(() => lintIni('[actions]\nmode reject\n', 'f.ini'), /^f\.ini: line 2: .*"mode reject"/, 'no =')
  t.throws(() => lintIni('[a]\r\nx=1\r\nthis is prose\r\n', 'f.ini'), /^f\.ini: line 3: .*"this is prose"/, 'CRLF lines counted')
  t.throws(() => lintIni('[a]\nx=1 \\\nsecond\ny: 2\n', 'f.ini'), /^f\.ini: line 4: /, 'continued lines counted')
})

t.test('a malformed line in the admin ini is refused by loadSettings, naming that file', async (t) => {
  const dir = tmpDir(t)
  fs.mkdirSync(path.join(dir, 'config'))
  const file = path.join(dir, 'config', 'shop-notice.ini')
  fs.writeFileSync(file, '[actions]\nmode: reject\n')
  t.throws(() => loadSettings(harakaSource(configFor(dir))), { name: 'ConfigError', file, key: 'line 2' })
  fs.writeFileSync(file, '')
  const loaded = loadSettings(harakaSource(configFor(dir)))
  t.equal(loaded.value.actions.mode, 'quarantine', 'an empty admin file: the package defaults')
  t.equal(loaded.iniLines[file], 0)
})

t.test('emptiedIniWarnings: a file that had settings and has none, or is gone', async (t) => {
  t.same(emptiedIniWarnings({ a: 3, b: 0 }, { a: 3, b: 0 }), [])
  t.same(emptiedIniWarnings({}, { a: 0 }), [], 'empty from the start: legitimate')
  t.match(emptiedIniWarnings({ a: 3 }, { a: 0 }), [/^a: has no settings any more \(it had 3\): every key it set now takes its default/])
  t.match(emptiedIniWarnings({ a: 3 }, {}), [/^a: is gone \(it had 3\)/])
})

t.test('[limits] max_links and max_mime_parts bound what a message has read', async (t) => {
  const d = parseIni({}).value.limits
  t.equal(d.max_links, 200)
  t.equal(d.max_mime_parts, 1000)
  t.throws(() => parseIni({ limits: { max_links: 0 } }), /\[limits\] max_links: expected a positive integer, got 0/)
  const body = Array.from({ length: 10 }, (_, i) => `https://shop${i}.example/x`).join('\n')
  const raw = Buffer.from(`From: a@b.example\r\nTo: c@d.example\r\nSubject: x\r\n\r\n${body}\r\n`)
  t.equal((await readMessage(raw, 1 << 20)).links.length, 10)
  t.equal((await readMessage(raw, 1 << 20, { maxLinks: 3 })).links.length, 3)
  const parts = Array.from({ length: 5 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('')
  const multi = Buffer.from(`From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`)
  t.equal((await readMessage(multi, 1 << 20)).tooManyParts, false)
  t.equal((await readMessage(multi, 1 << 20, { maxParts: 2 })).tooManyParts, true)
})

t.test('[redis] tls: its files are read at load; one that cannot be is refused naming the key', async (t) => {
  const dir = tmpDir(t)
  fs.mkdirSync(path.join(dir, 'config'))
  const ini = path.join(dir, 'config', 'shop-notice.ini')
  const ca = path.join(dir, 'ca.pem')
  fs.writeFileSync(ini, `[store]\nbackend=redis\n[redis]\ntls=true\ntls_ca=${ca}\n`)
  t.throws(() => loadSettings(harakaSource(configFor(dir))), { name: 'ConfigError', key: '[redis] tls_ca', message: new RegExp(`cannot read ${ca}: ENOENT`) })
  t.test('a readable CA: loaded, tls a boolean', { skip: opensslSkipReason() }, async (t) => {
    const certs = makeCerts()
    t.teardown(() => certs.remove())
    fs.copyFileSync(certs.ca, ca)
    const { value } = loadSettings(harakaSource(configFor(dir)))
    t.equal(value.store.redis.tls, true)
    t.equal(value.store.redis.tls_ca, ca)
  })
  // a folder of its own: haraka-config keeps what it read of the first
  const off = tmpDir(t)
  fs.mkdirSync(path.join(off, 'config'))
  fs.writeFileSync(path.join(off, 'config', 'shop-notice.ini'), `[store]\nbackend=sqlite\n[redis]\ntls=false\ntls_ca=${ca}\n`)
  t.throws(() => loadSettings(harakaSource(configFor(off))), { name: 'ConfigError', key: '[redis] tls_ca', message: /\[redis\] tls is false/ })
})
