/**
 * Catastrophic backtracking: every regular expression in src/ is checked by recheck
 * (https://makenowjust-labs.github.io/recheck/), a ReDoS checker, and must be `safe`
 * (linear or constant). Literals are found with the TypeScript parser, so a regex added
 * later is checked without anyone listing it; the ones built at run time (`new RegExp`)
 * are listed below and checked as the shipped configuration builds them.
 *
 * recheck runs on its pure-JavaScript backend (RECHECK_BACKEND=pure): no Java, no native
 * binary, nothing downloaded; with a fixed seed and step limits, so a finding reproduces.
 *
 * Checking all of them takes about two minutes, so the `safe` answers are kept in
 * test/redos-checked.json, keyed by a hash of recheck's version, its parameters, the
 * source and the flags: only a regex that is new or changed is checked again (a changed
 * one has a new key). Only `safe` answers are ever kept, so a vulnerable regex is
 * checked, and fails, on every run. After adding or changing a regex, run
 * `REDOS_UPDATE=1 npx tap test/unit/redos.test.ts` and commit the file (it also drops
 * the keys no regex uses any more).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import ts from 'typescript'

import { ROOT, shippedPhrases } from '../helpers/settings'
import { SCRIPTS } from '../../dist/src/knowledge/domains.js'
import { harakaSource, loadSettings } from '../../dist/src/config/settings.js'
import { configFor } from '../../dist/src/config/sources.js'

process.env.RECHECK_BACKEND = 'pure'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkSync } = require('recheck') as typeof import('recheck')

// a fixed seed, and limits in steps only: recheck's time limits make its fuzzing depend on
// how busy the machine is (a loaded machine once made a linear regex look polynomial)
const PARAMS = { randomSeed: 42, timeout: null, attackTimeout: null, incubationTimeout: null } as const

const CACHE_FILE = path.join(ROOT, 'test', 'redos-checked.json')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RECHECK_VERSION = (require('recheck/package.json') as { version: string }).version
const keyOf = (source: string, flags: string): string =>
  crypto.createHash('sha256').update(JSON.stringify([RECHECK_VERSION, PARAMS, source, flags])).digest('hex').slice(0, 32)

/** key -> recheck's complexity summary, for regexes recheck called safe */
const cached: Record<string, string> = fs.existsSync(CACHE_FILE) ? (JSON.parse(fs.readFileSync(CACHE_FILE, 'utf8')) as Record<string, string>) : {}
const seen: Record<string, string> = {}
let fresh = 0

type Decision = { status: 'safe'; summary: string; cached: boolean } | { status: 'vulnerable' | 'unknown'; detail: string }

/** recheck's answer, from the cache when this exact regex was found safe before. */
function decide(source: string, flags: string): Decision {
  const key = keyOf(source, flags)
  const hit = cached[key]
  if (hit !== undefined) {
    seen[key] = hit
    return { status: 'safe', summary: hit, cached: true }
  }
  fresh++
  const d = checkSync(source, flags, PARAMS)
  if (d.status === 'safe') {
    seen[key] = d.complexity.summary
    return { status: 'safe', summary: d.complexity.summary, cached: false }
  }
  if (d.status === 'vulnerable') return { status: 'vulnerable', detail: `${d.complexity.summary}, attack ${d.attack.pattern}` }
  return { status: 'unknown', detail: `recheck could not decide (${JSON.stringify(d.error)})` }
}

interface Found {
  readonly where: string
  readonly source: string
  readonly flags: string
}

/** Every regex literal of a TypeScript file, with its line. */
function literalsOf(file: string): Found[] {
  const text = fs.readFileSync(file, 'utf8')
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  const out: Found[] = []
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const lit = node.getText(sf)
      const end = lit.lastIndexOf('/')
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1
      out.push({ where: `${path.relative(ROOT, file)}:${line}`, source: lit.slice(1, end), flags: lit.slice(end + 1) })
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** Lines of src/ that build a RegExp at run time: each must be covered below. */
function dynamicSites(): string[] {
  const sites: string[] = []
  for (const file of sourceFiles()) {
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    lines.forEach((l, i) => {
      if (/\bnew RegExp\(|\bRegExp\(/.test(l)) sites.push(`${path.relative(ROOT, file)}:${i + 1}`)
    })
  }
  return sites
}

function assertSafe(t: Test, f: Found): void {
  const d = decide(f.source, f.flags)
  if (d.status !== 'safe') {
    t.fail(`${f.where} /${f.source}/${f.flags}: ${d.detail}`)
  } else {
    t.pass(`${f.where} /${f.source.length > 80 ? `${f.source.slice(0, 77)}...` : f.source}/${f.flags}: ${d.summary}${d.cached ? ' (checked before)' : ''}`)
  }
}

/** Every .ts file under src/. */
const sourceFiles = (): string[] =>
  (fs.readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts'))
    .sort()
    .map((n) => path.join(ROOT, 'src', n))

t.test('every regex literal in src/ is safe from catastrophic backtracking', async (t) => {
  const found = sourceFiles().flatMap(literalsOf)
  t.ok(found.length >= 40, `found ${found.length} literals`)
  for (const f of found) assertSafe(t, f)
})

t.test('every RegExp built at run time is known here, and safe as the shipped configuration builds it', async (t) => {
  // these are the only run-time RegExps of src/; a new one must be added here with its check
  const known = ['src/knowledge/domains.ts', 'src/knowledge/phrases.ts', 'src/knowledge/phrases.ts', 'src/message/text.ts']
  const sites = dynamicSites()
  t.same(
    sites.map((s) => s.replace(/:\d+$/, '')),
    known,
    `run-time RegExps: ${sites.join(', ')}`,
  )

  // phrases.ts: the order-label alternation compiled from config/shop-notice.phrases.yaml
  const label = shippedPhrases().details.order_label
  assertSafe(t, { where: 'order_label (shop-notice.phrases.yaml)', source: label.source, flags: label.flags })
  // phrases.ts: the amount matcher compiled from details.currency
  const amount = shippedPhrases().details.amount
  assertSafe(t, { where: 'amount (details.currency, shop-notice.phrases.yaml)', source: amount.source, flags: amount.flags })

  // text.ts: a glyph set (the simplified-Chinese glyphs of the phrase book) as one character class
  const glyphs = [...shippedPhrases().simplified_chinese].map((c) => c.replace(/[\\\]\[^-]/g, '\\$&')).join('')
  assertSafe(t, { where: 'text.ts glyph class (simplified_chinese)', source: `[${glyphs}]`, flags: 'gu' })

  // domains.ts: one \p{Script=…} per script
  for (const name of SCRIPTS) assertSafe(t, { where: `domains.ts script ${name}`, source: `\\p{Script=${name}}`, flags: 'u' })

  // registry.ts: each brand's order_number promise is an admin's pattern, compiled with re2js
  // (src/knowledge/pattern.ts), linear whatever the pattern, not a backtracking RegExp; that a
  // catastrophic one answers is test/registry.test.ts
  const { value } = loadSettings(harakaSource(configFor(undefined)))
  let n = 0
  for (const brand of value.registry.brands.values()) {
    const re = brand.promises.order_number
    if (!re) continue
    n++
    t.notOk((re as unknown) instanceof RegExp, `retailers.${brand.id}.promises.order_number runs on RE2, not a RegExp`)
  }
  t.ok(n >= 1, `${n} order_number promises checked`)
})

t.test('the checker finds what it is meant to find', async (t) => {
  // a test that could never fail proves nothing: recheck must call these vulnerable
  for (const [source, flags] of [
    ['^(a+)+$', ''],
    ['(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,24}x', 'i'],
    ['[).,;:!?\\]]+$', ''],
  ] as const) {
    t.equal(checkSync(source, flags, PARAMS).status, 'vulnerable', `/${source}/${flags}`)
  }
})

t.test('the cache never answers for a regex it has not seen safe', async (t) => {
  // a vulnerable regex is never cached, so it is checked (and fails) on every run
  const before = fresh
  t.equal(decide('^(a+)+$', '').status, 'vulnerable')
  t.equal(fresh, before + 1, 'it was checked, not looked up')
  // the key is the exact source and flags: a cached safe regex changed into a vulnerable one is checked again
  const safeKey = keyOf('^a+$', '')
  t.not(keyOf('^(a+)+$', ''), safeKey)
  t.not(keyOf('^a+$', 'i'), safeKey)
  t.ok(Object.values(cached).every((v) => typeof v === 'string'), 'the cache holds summaries only')
})

t.teardown(() => {
  if (process.env.REDOS_UPDATE) {
    const sorted = Object.fromEntries(Object.entries(seen).sort(([a], [b]) => a.localeCompare(b)))
    fs.writeFileSync(CACHE_FILE, `${JSON.stringify(sorted, null, 1)}\n`)
  }
})
