/**
 * Catastrophic backtracking: every regular expression in src/ is checked by recheck
 * (https://makenowjust-labs.github.io/recheck/), a ReDoS checker, and must be `safe`
 * (linear or constant). Literals are found with the TypeScript parser, so a regex added
 * later is checked without anyone listing it; the ones built at run time (`new RegExp`)
 * are listed below and checked as the shipped configuration builds them.
 *
 * recheck runs on its pure-JavaScript backend (RECHECK_BACKEND=pure): no Java, no native
 * binary, nothing downloaded; with a fixed seed and step limits, so a finding reproduces.
 */
import fs from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import ts from 'typescript'

import { ROOT, shippedPhrases } from './helpers/settings'
import { SCRIPTS } from '../dist/src/domains.js'
import { harakaSource, loadSettings } from '../dist/src/config.js'
import { configFor } from '../dist/src/cli.js'

process.env.RECHECK_BACKEND = 'pure'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkSync } = require('recheck') as typeof import('recheck')

// a fixed seed, and limits in steps only: recheck's time limits make its fuzzing depend on
// how busy the machine is (a loaded machine once made a linear regex look polynomial)
const PARAMS = { randomSeed: 42, timeout: null, attackTimeout: null, incubationTimeout: null } as const

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
  for (const name of fs.readdirSync(path.join(ROOT, 'src'))) {
    if (!name.endsWith('.ts')) continue
    const lines = fs.readFileSync(path.join(ROOT, 'src', name), 'utf8').split('\n')
    lines.forEach((l, i) => {
      if (/\bnew RegExp\(|\bRegExp\(/.test(l)) sites.push(`src/${name}:${i + 1}`)
    })
  }
  return sites
}

function assertSafe(t: Test, f: Found): void {
  const d = checkSync(f.source, f.flags, PARAMS)
  if (d.status === 'vulnerable') {
    t.fail(`${f.where} /${f.source}/${f.flags}: ${d.complexity.summary}, attack ${d.attack.pattern}`)
  } else if (d.status === 'unknown') {
    t.fail(`${f.where} /${f.source}/${f.flags}: recheck could not decide (${JSON.stringify(d.error)})`)
  } else {
    t.pass(`${f.where} /${f.source.length > 80 ? `${f.source.slice(0, 77)}...` : f.source}/${f.flags}: ${d.complexity.summary}`)
  }
}

t.test('every regex literal in src/ is safe from catastrophic backtracking', async (t) => {
  const files = fs
    .readdirSync(path.join(ROOT, 'src'))
    .filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts'))
    .map((n) => path.join(ROOT, 'src', n))
  const found = files.flatMap(literalsOf)
  t.ok(found.length >= 40, `found ${found.length} literals`)
  for (const f of found) assertSafe(t, f)
})

t.test('every RegExp built at run time is known here, and safe as the shipped configuration builds it', async (t) => {
  // these are the only run-time RegExps of src/; a new one must be added here with its check
  const known = ['src/domains.ts', 'src/phrases.ts', 'src/text.ts']
  const sites = dynamicSites()
  t.same(
    sites.map((s) => s.replace(/:\d+$/, '')),
    known,
    `run-time RegExps: ${sites.join(', ')}`,
  )

  // phrases.ts: the order-label alternation compiled from config/shop-notice.phrases.yaml
  const label = shippedPhrases().details.order_label
  assertSafe(t, { where: 'order_label (shop-notice.phrases.yaml)', source: label.source, flags: label.flags })

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
