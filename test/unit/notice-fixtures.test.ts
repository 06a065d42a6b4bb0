/**
 * The notice fixtures of issue 12 (test/fixtures/notices/README.md): genuine notices in the shapes real
 * brands and shops send, and their phishing counterparts. Each file is scanned offline as a relay sees it,
 * trusting the Authentication-Results that the gateway `mx.fixtures.test` recorded, with the shipped
 * registry and phrase book; its manifest entry says which verdicts are acceptable, which signals must fire
 * and which must not. Fixtures that today's code still fails carry `todo:` in the manifest and run as tap
 * todos, so they stay visible until the detection work of issue 12 makes them pass.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import YAML from 'yaml'

import { scan } from '../../dist/src/scan.js'
import { ROOT, testSettings } from '../helpers/settings'

const DIR = path.join(ROOT, 'test', 'fixtures', 'notices')
const AUTHSERV = 'mx.fixtures.test'

interface Entry {
  verdict: string[]
  brand?: string
  fire: string[]
  not: string[]
  class: number
  lang: string
  charset: string
  why: string
  todo?: string
}

const manifest = YAML.parse(fs.readFileSync(path.join(DIR, 'manifest.yaml'), 'utf8')) as Record<string, Entry>

// the shipped registry (its lists and brands), the shipped phrase book, INI defaults, and the gateway trusted
const { retailers, ...lists } = YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'shop-notice.retailers.yaml'), 'utf8')) as {
  retailers: object
}
const base = testSettings(retailers, lists)
const settings = { ...base, auth: { ...base.auth, trusted_authserv_ids: [AUTHSERV] } }

/** The envelope sender the relay saw: the Return-Path the fixture carries. */
const envelopeOf = (raw: Buffer): string => /^Return-Path:\s*<([^>]*)>/im.exec(raw.toString('latin1'))?.[1] ?? ''

t.test('the manifest and the fixture folders agree', async (t) => {
  const onDisk = ['genuine', 'phish'].flatMap((d) =>
    fs
      .readdirSync(path.join(DIR, d))
      .filter((f) => f.endsWith('.eml'))
      .map((f) => `${d}/${f}`),
  )
  t.same(onDisk.sort(), Object.keys(manifest).sort(), 'every .eml has an entry and every entry a file')
  const genuine = onDisk.filter((f) => f.startsWith('genuine/'))
  t.ok(genuine.length >= 80, `at least 80 genuine notices (${genuine.length})`)
  // a misspelt symbol would make a `not` expectation pass for nothing: every name must be documented
  const documented = new Set([...fs.readFileSync(path.join(ROOT, 'docs', 'signals.md'), 'utf8').matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]))
  for (const [file, e] of Object.entries(manifest)) {
    for (const s of [...e.fire, ...e.not]) t.ok(documented.has(s), `${file}: ${s} is a documented signal`)
    t.ok(e.verdict.length && e.why && Number.isInteger(e.class), `${file}: verdict, class and why given`)
    t.notOk(
      e.fire.some((s) => e.not.includes(s)),
      `${file}: no signal both must and must not fire`,
    )
    const raw = fs.readFileSync(path.join(DIR, file), 'latin1')
    const declared = [...raw.matchAll(/^Content-Type:[^\r\n]*charset="?([\w-]+)/gim)].map((m) => m[1]!.toLowerCase())
    t.ok(declared.length, `${file}: declares its charset`)
    t.ok(
      declared.every((c) => c === e.charset.toLowerCase() || c === 'us-ascii'),
      `${file}: written in ${e.charset} as the manifest says (${declared.join(', ')})`,
    )
    if (e.charset === 'ISO-2022-JP') t.ok(fs.readFileSync(path.join(DIR, file)).includes('\x1b$B'), `${file}: real ISO-2022-JP (ESC $ B)`)
    if (file.startsWith('genuine/')) t.notOk(e.verdict.some((v) => v === 'suspicious' || v === 'spoofed'), `${file}: genuine mail is never allowed a flag`)
    else t.notOk(e.verdict.some((v) => v === 'none' || v === 'notice' || v === 'verified'), `${file}: phishing must be flagged`)
  }
})

for (const [file, e] of Object.entries(manifest)) {
  const name = `${file} [class ${e.class}, ${e.lang}, ${e.charset}]`
  t.test(name, e.todo ? { todo: e.todo } : {}, async (t) => {
    const raw = fs.readFileSync(path.join(DIR, file))
    const result = await scan(raw, { sender: envelopeOf(raw) }, { settings, authservId: 'mx.test.local' })
    const hits: string[] = result.hits.map((h) => h.symbol)
    const diag = {
      why: e.why,
      verdict: result.verdict,
      brand: result.brand ?? '-',
      kind: result.kind ?? '-',
      score: result.score,
      hits: result.hits.map((h) => (h.options.length ? `${h.symbol}(${h.options.join(",")})` : h.symbol)).join(" "),
      auth: { spf: result.auth.spf.result, dmarc: result.auth.dmarc.result, dkim: result.auth.dkim.map((d) => `${d.result}:${d.domain}`).join(',') },
    }
    t.not(result.auth.source, 'unavailable', 'the recorded Authentication-Results were trusted', diag)
    t.ok(e.verdict.includes(result.verdict), `verdict ${result.verdict} is one of ${e.verdict.join('|')}`, diag)
    if (e.brand) t.equal(result.brand, e.brand, `brand is ${e.brand}`, diag)
    for (const s of e.fire) t.ok(hits.includes(s), `${s} fires`, diag)
    for (const s of e.not) t.notOk(hits.includes(s), `${s} does not fire`, diag)
    const met =
      e.verdict.includes(result.verdict) &&
      (!e.brand || result.brand === e.brand) &&
      e.fire.every((s) => hits.includes(s)) &&
      !e.not.some((s) => hits.includes(s))
    if (e.todo && met) t.comment(`${file} passes now: remove its todo from manifest.yaml`)
  })
}
