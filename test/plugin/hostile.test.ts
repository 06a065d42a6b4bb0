/**
 * Bad input: every hostile message of test/helpers/hostile.ts by name, and messages
 * generated and mutated by fast-check (test/helpers/arbitrary.ts), through scan() and
 * through the plugin (haraka-test-fixtures). Each one: no exception, a verdict other
 * than `error` (an internal failure is a bug to fix, even though it lets mail through),
 * headers of the documented syntax, and the message written out with its body byte for
 * byte as Haraka itself writes it, its header fields those Haraka keeps plus ours.
 * The same through a real Haraka over SMTP is test/e2e/hostile.test.ts.
 */
import fc from 'fast-check'
import PostalMime from 'postal-mime'
import t, { type Test } from 'tap'

import { formatVerdict } from '../../dist/src/verdict/headers.js'
import { formatAuthResults, isOurAuthResults } from '../../dist/src/auth/results.js'
import { splitStructured } from '../../dist/src/message/find.js'
import { MAX_PARTS, readMessage } from '../../dist/src/message/parse.js'
import { type ScanResult, scan } from '../../dist/src/scan.js'
import { VERDICTS } from '../../dist/src/verdict/score.js'
import { hostileMessage } from '../helpers/arbitrary'
import { hostileMessages } from '../helpers/hostile'
import { AUTHSERV, type FixturePlugin, connection, deliver, fixtures, makePlugin, referenceParts, writtenParts } from '../helpers/plugin'
import { fcParams } from '../helpers/property'
import { makeMessage } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const settings = testSettings()

const VERDICT_SYNTAX = /^(none|notice|verified|suspicious|spoofed|error); brand=([a-z0-9_-]{1,64}|-); kind=([a-z0-9_-]{1,64}|-); score=-?\d+(\.\d+)?; signals=([A-Z0-9_]+(,[A-Z0-9_]+)*|-)$/

type ResolveFn = (name: string, rrtype: string) => Promise<unknown[]>

const dnsError = (code: string) => Object.assign(new Error(`${code} (test)`), { code })

/**
 * A resolver as a broken or hostile DNS answers: each name gets, by a hash of it, no
 * record, a timeout, SERVFAIL, or answers of the right shape with garbage in them.
 */
const chaosResolver: ResolveFn = async (name, rrtype) => {
  let h = 0
  for (const c of `${rrtype} ${name}`) h = (h * 31 + c.charCodeAt(0)) >>> 0
  switch (h % 7) {
    case 0:
      throw dnsError('ENOTFOUND')
    case 1:
      throw dnsError('ETIMEOUT')
    case 2:
      throw dnsError('ESERVFAIL')
    case 3:
      if (rrtype === 'TXT') return [['v=spf1 ', 'include:', name, ' -all'], ['v=spf1 +all']] // two SPF records: permerror
      break
    case 4:
      if (rrtype === 'TXT') return [['v=DKIM1; k=rsa; p=AAAA!!!'], ['v=DMARC1; p=bogus; pct=-1; rua=mailto:x'], ['\u0000\uffff'.repeat(100)]]
      break
    case 5:
      if (rrtype === 'TXT') return [['x'.repeat(255), 'y'.repeat(255), 'z'.repeat(255)]]
      break
  }
  if (rrtype === 'A') return ['192.0.2.1']
  if (rrtype === 'AAAA') return ['2001:db8::1']
  if (rrtype === 'MX') return [{ exchange: `mx.${name}`, priority: 10 }]
  throw dnsError('ENODATA')
}

/** What must hold of every scan result, whatever the input. */
function checkResult(t: Test, name: string, r: ScanResult): void {
  t.ok(VERDICTS.includes(r.verdict), `${name}: a verdict (${r.verdict})`)
  t.not(r.verdict, 'error', `${name}: no internal failure${r.error ? `: ${r.error}` : ''}`)
  t.match(formatVerdict(r).replace(/\r\n/g, ''), VERDICT_SYNTAX, `${name}: X-Shop-Notice syntax`)
  const ar = formatAuthResults(AUTHSERV, r.auth.fragments)
  t.ok(`Authentication-Results: ${ar}`.split('\r\n').every((l) => l.length <= 998 && /^[\x20-\x7e\t]*$/.test(l)), `${name}: Authentication-Results printable, lines within 998 octets`)
  t.equal(splitStructured(ar.replace(/\r\n\t/g, ' ')).length, Math.max(r.auth.fragments.length, 1) + 1, `${name}: one result per fragment`)
}

const ctx = { ip: '198.51.100.7', helo: 'client.example', sender: 'bounce@amazon.co.jp' }

t.test('every hostile message scans to a verdict, offline and with a broken DNS', async (t) => {
  const all = hostileMessages()
  t.ok(all.length >= 40, `${all.length} hostile messages`)
  for (const h of all) {
    checkResult(t, `${h.name} offline`, await scan(h.raw, ctx, { settings, authservId: AUTHSERV }))
    checkResult(t, `${h.name} chaos DNS`, await scan(h.raw, ctx, { settings, authservId: AUTHSERV, resolve: chaosResolver }))
  }
})

t.test('past 1,000 MIME parts the rest is not parsed, and the verdict says so', async (t) => {
  const parts = Array.from({ length: 5000 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('')
  const raw = Buffer.from(
    'From: "Amazon.co.jp" <auto-confirm@amazon.co.jp>\r\nSubject: =?UTF-8?B?' +
      Buffer.from('【Amazon.co.jp】ご注文の確認').toString('base64') +
      '?=\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n--p\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n' +
      'ご注文ありがとうございます。\r\n注文番号: 250-1234567-1234567\r\n' +
      parts +
      '--p--\r\n',
  )
  const facts = await readMessage(raw, 5 * 1024 * 1024)
  t.equal(facts.truncated, true)
  t.equal(facts.tooManyParts, true)
  t.match(facts.text, /ご注文ありがとうございます/, 'the first part is read')
  const r = await scan(raw, ctx, { settings, authservId: AUTHSERV })
  t.match(r.hits.find((h) => h.symbol === 'SCAN_TRUNCATED')?.options, [`mime_parts>${MAX_PARTS}`])
  t.equal(r.kind, 'order')
  const few = makeMessage({ subject: 'x', body: 'y', attachments: Array.from({ length: 20 }, (_, i) => ({ filename: `${i}.txt`, contentType: 'text/plain', content: Buffer.from('z') })) })
  t.equal((await readMessage(few, 1e6)).tooManyParts, false, 'an ordinary multipart is read whole')
})

t.test('generated and mutated messages scan to a verdict (property)', async (t) => {
  let n = 0
  await fc.assert(
    fc.asyncProperty(hostileMessage, fc.boolean(), async (raw, online) => {
      n++
      const r = await scan(raw, ctx, { settings, authservId: AUTHSERV, ...(online ? { resolve: chaosResolver } : {}) })
      const ar = formatAuthResults(AUTHSERV, r.auth.fragments)
      return (
        r.verdict !== 'error' &&
        VERDICT_SYNTAX.test(formatVerdict(r).replace(/\r\n/g, '')) &&
        `Authentication-Results: ${ar}`.split('\r\n').every((l) => l.length <= 998 && /^[\x20-\x7e\t]*$/.test(l))
      )
    }),
    fcParams(300),
  )
  t.ok(n > 0, `${n} messages`)
})

// ----------------------------------------------------------------------------- through the plugin

let dnsPort = 0
t.before(async () => {
  // every name: NXDOMAIN, at once
  const dns = await fixtures.dns.start({})
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

const REGISTRY = 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n'
const MODES = ['monitor', 'tag', 'quarantine', 'reject'] as const

/** The fields a sender may not bring: any X-Shop-Notice, and Authentication-Results under our id. */
const isForged = (field: string): boolean => {
  const colon = field.indexOf(':')
  if (colon < 0) return false
  const name = field.slice(0, colon).trim().toLowerCase()
  if (name === 'x-shop-notice') return true
  return (name === 'authentication-results' || name === 'original-authentication-results') && isOurAuthResults(field.slice(colon + 1), AUTHSERV)
}

/** The Subject as a mail client reads it (postal-mime decodes it, unfolded). */
const subjectOf = async (fields: readonly string[]): Promise<string | undefined> =>
  fields.some((f) => /^subject:/i.test(f))
    ? ((await PostalMime.parse(Buffer.from(`${fields.filter((f) => /^subject:/i.test(f))[0]}\r\n\r\n`, 'utf8'))).subject ?? '')
    : undefined

/**
 * Through the plugin in `mode`: the hook answers, and the message written out is what
 * Haraka alone writes (the reference), with our two fields on top and forged ones gone;
 * when the action was `tag`, the Subject, in its place, reads as the prefix, a space and
 * the sender's Subject. Returns a description of a difference, or ''.
 */
async function throughPlugin(plugin: FixturePlugin, mode: string, raw: Buffer): Promise<string> {
  const conn = connection({ mailFrom: 'bounce@amazon.co.jp' })
  const r = await deliver(plugin, conn, raw)
  const allowed = mode === 'reject' ? [undefined, 901, 902, 903] : [undefined, 903]
  if (!allowed.includes(r.rc)) return `hook answered ${r.rc}`
  const action = (conn.transaction.notes.shop_notice as { action?: string } | undefined)?.action
  const o = await writtenParts(conn)
  const ref = await referenceParts(raw)
  // Haraka writes the empty line after the header fields only when there are some
  const emptyMessage = raw.length === 0 && ref.fields.length === 0 && o.rest.equals(Buffer.from('\r\n'))
  if (!o.rest.equals(ref.rest) && !emptyMessage) return 'the body differs from what Haraka alone writes'
  const out = { fields: [...o.fields] }

  const sent = ref.fields.filter((f) => !isForged(f))
  // a notice without a Subject, tagged, gets one on top: the prefix alone
  if (action === 'tag' && !sent.some((f) => /^subject:/i.test(f))) {
    if (out.fields[0] !== 'Subject: [SPOOF?]') return `no Subject, tagged: ${out.fields[0]?.slice(0, 60)}`
    out.fields.shift()
  }
  const verdict = out.fields[0] ?? ''
  if (!/^X-Shop-Notice: /.test(verdict) || out.fields.filter((f) => /^x-shop-notice\s*:/i.test(f)).length !== 1) return `X-Shop-Notice: ${verdict.slice(0, 80)}`
  const value = verdict.replace(/^X-Shop-Notice: /, '').replace(/\r\n /g, ' ')
  if (!VERDICT_SYNTAX.test(value) || value.startsWith('error')) return `X-Shop-Notice value: ${value}`
  const ar = out.fields[1] ?? ''
  if (!/^Authentication-Results: /.test(ar) || !isOurAuthResults(ar.replace(/^Authentication-Results: /, ''), AUTHSERV)) return `no Authentication-Results of ours: ${ar.slice(0, 80)}`
  for (const line of [verdict, ar].join('\r\n').split('\r\n')) if (line.length > 998 || /[^\x20-\x7e\t]/.test(line)) return `our header line: ${line.slice(0, 80)}`

  // below ours: every field Haraka kept, in place and as written, forged ones out; when
  // tagged, the first Subject reads as the prefix, one space and the sender's Subject
  const rest = out.fields.slice(2)
  const at = sent.findIndex((f) => /^subject:/i.test(f))
  const tagged = action === 'tag' && at >= 0 && !(sent[at] ?? '').replace(/^subject:\s*/i, '').startsWith('[SPOOF?]')
  if (tagged) {
    const read = await subjectOf([rest[at] ?? ''])
    const was = await subjectOf([sent[at]!])
    if (read?.trim() !== `[SPOOF?] ${was}`.trim()) return `the tagged Subject reads ${JSON.stringify(read?.slice(0, 60))}, not the prefix and ${JSON.stringify(was?.slice(0, 60))}`
    if (!(rest[at] ?? '').split('\r\n').every((l) => l.length <= 998 || l.length <= (sent[at] ?? '').split('\r\n').reduce((m, x) => Math.max(m, x.length), 0))) {
      return 'the prefix made a Subject line longer than 998 octets'
    }
  }
  const expected = tagged ? sent.map((f, i) => (i === at ? (rest[at] ?? '') : f)) : sent
  if (tagged && action === 'tag' && !/^subject:\s*(\r\n\s*)?\[SPOOF\?\]/i.test(rest[at] ?? '')) return `not tagged: ${rest[at]?.slice(0, 60)}`
  if (JSON.stringify(rest) !== JSON.stringify(expected)) {
    return `header fields differ:\n${JSON.stringify(rest.slice(0, 6))}\n${JSON.stringify(expected.slice(0, 6))}`
  }
  return ''
}

t.test('through the plugin, in every mode, every hostile message: the body as Haraka writes it, our headers only added', async (t) => {
  for (const mode of MODES) {
    const { plugin } = makePlugin(t, { dnsPort, ini: `[actions]\nmode=${mode}\nsubject_prefix=[SPOOF?]\n`, registry: REGISTRY })
    for (const h of hostileMessages()) t.equal(await throughPlugin(plugin, mode, h.raw), '', `${mode}: ${h.name}`)
  }
})

t.test('through the plugin: generated and mutated messages (property)', async (t) => {
  const plugins = Object.fromEntries(MODES.map((mode) => [mode, makePlugin(t, { dnsPort, ini: `[actions]\nmode=${mode}\nsubject_prefix=[SPOOF?]\n`, registry: REGISTRY }).plugin]))
  await fc.assert(
    fc.asyncProperty(hostileMessage, fc.constantFrom(...MODES), async (raw, mode) => {
      const problem = await throughPlugin(plugins[mode]!, mode, raw)
      if (problem) throw new Error(problem)
      return true
    }),
    fcParams(150),
  )
  t.pass('every generated message')
})
