/**
 * `npm run eval`: scans the evaluation corpus (../shared/corpus by default, or the
 * folder given as the first argument) offline, exactly as `shop-notice scan --offline`
 * would, and prints per group and language how many messages got each verdict, then
 * every miss (phishing below suspicious) and every false flag (genuine mail flagged),
 * with its signals. Exit status 1 when a target of docs/evaluation.md is missed.
 *
 * The corpus is never copied into the project: this script only reads it.
 */
import fs from 'node:fs'
import path from 'node:path'

import sources from '../dist/src/config/sources.js'
import config from '../dist/src/config/settings.js'
import scanner from '../dist/src/scan.js'

const { configFor } = sources
const { harakaSource, loadSettings } = config
const { scan } = scanner

const corpus = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..', '..', 'shared', 'corpus'))
const verbose = !process.argv.includes('--quiet')
if (!fs.existsSync(path.join(corpus, 'index.tsv'))) {
  console.error(`eval: no corpus at ${corpus} (expected index.tsv and the group folders)`)
  process.exit(2)
}

interface Row {
  file: string
  group: string
  language: string
  claimedBrand: string
  claimsNotice: boolean
}
const [header, ...lines] = fs.readFileSync(path.join(corpus, 'index.tsv'), 'utf8').trim().split('\n')
const cols = header!.split('\t')
const col = (name: string): number => cols.indexOf(name)
const rows: Row[] = lines.map((l) => {
  const f = l.split('\t')
  return {
    file: f[col('file')]!,
    group: f[col('group')]!,
    language: f[col('language')]!,
    claimedBrand: f[col('claimed_brand')]!,
    claimsNotice: f[col('claims_payment_or_order_notice')] === 'yes',
  }
})

const settings = loadSettings(harakaSource(configFor(undefined))).value
const VERDICTS = ['none', 'notice', 'verified', 'suspicious', 'spoofed', 'error'] as const
type Verdict = (typeof VERDICTS)[number]
const flagged = (v: Verdict): boolean => v === 'suspicious' || v === 'spoofed'

const tally = new Map<string, Record<Verdict, number>>()
const count = (key: string, v: Verdict): void => {
  const t = tally.get(key) ?? (Object.fromEntries(VERDICTS.map((x) => [x, 0])) as Record<Verdict, number>)
  t[v]++
  tally.set(key, t)
}
const misses: string[] = []
const falseFlags: string[] = []
const t0 = performance.now()

for (const row of rows) {
  const raw = fs.readFileSync(path.join(corpus, row.group, row.file))
  const r = await scan(raw, {}, { settings, authservId: 'eval.invalid' })
  const v = r.verdict as Verdict
  count(`${row.group}\t${row.language}`, v)
  if (row.group === 'phish' && row.language === 'en' && row.claimsNotice) count('phish\ten notice-type', v)
  const signals = r.hits.map((h) => (h.options.length ? `${h.symbol}(${h.options.join(',')})` : h.symbol)).join(' ') || '-'
  const line = `${row.group}/${row.file}\t${v}\t${r.score}\t${r.brand ?? '-'}\t${r.kind ?? '-'}\t${signals}`
  if (row.group === 'phish' && !flagged(v) && (row.language === 'ja' || row.claimsNotice)) misses.push(line)
  if (row.group === 'ham_transactional' && flagged(v)) falseFlags.push(line)
  if (row.group === 'ham_dkim' && v !== 'none') falseFlags.push(line)
}
const seconds = (performance.now() - t0) / 1000

const pct = (n: number, d: number): string => (d ? `${((100 * n) / d).toFixed(1)}%` : '-')
console.log(`corpus: ${corpus} (${rows.length} messages, offline, ${seconds.toFixed(1)} s)\n`)
console.log(['group', 'language', ...VERDICTS, 'total', 'flagged'].join('\t'))
for (const [key, t] of [...tally].sort(([a], [b]) => a.localeCompare(b))) {
  const total = VERDICTS.reduce((s, v) => s + t[v], 0)
  console.log([key, ...VERDICTS.map((v) => t[v]), total, pct(t.suspicious + t.spoofed, total)].join('\t'))
}

const rate = (key: string, pred: (t: Record<Verdict, number>) => number): [number, number] => {
  const t = tally.get(key)
  if (!t) return [0, 0]
  return [pred(t), VERDICTS.reduce((s, v) => s + t[v], 0)]
}
const targets: [string, boolean, string][] = []
{
  const [n, d] = rate('phish\tja', (t) => t.suspicious + t.spoofed)
  targets.push(['Japanese phishing flagged >= 97%', n >= 0.97 * d, `${n}/${d} ${pct(n, d)}`])
}
{
  const [n, d] = rate('phish\ten notice-type', (t) => t.suspicious + t.spoofed)
  targets.push(['English notice-type phishing flagged >= 90%', n >= 0.9 * d, `${n}/${d} ${pct(n, d)}`])
}
{
  const keys = [...tally.keys()].filter((k) => k.startsWith('ham_transactional\t'))
  const spoofed = keys.reduce((s, k) => s + tally.get(k)!.spoofed, 0)
  const suspicious = keys.reduce((s, k) => s + tally.get(k)!.suspicious, 0)
  const total = keys.reduce((s, k) => s + VERDICTS.reduce((x, v) => x + tally.get(k)![v], 0), 0)
  targets.push(['ham_transactional: none spoofed', spoofed === 0, `${spoofed}/${total}`])
  targets.push(['ham_transactional: suspicious <= 3%', suspicious <= 0.03 * total, `${suspicious}/${total} ${pct(suspicious, total)}`])
}
{
  const keys = [...tally.keys()].filter((k) => k.startsWith('ham_dkim\t'))
  const notNone = keys.reduce((s, k) => s + VERDICTS.reduce((x, v) => x + (v === 'none' ? 0 : tally.get(k)![v]), 0), 0)
  const flaggedN = keys.reduce((s, k) => s + tally.get(k)!.suspicious + tally.get(k)!.spoofed, 0)
  targets.push(['ham_dkim: none flagged', flaggedN === 0, `${flaggedN} flagged, ${notNone} not none`])
}
console.log('\ntarget\tmet\tmeasured')
for (const [name, ok, measured] of targets) console.log(`${name}\t${ok ? 'yes' : 'NO'}\t${measured}`)

if (verbose) {
  console.log(`\nmisses (phishing not flagged): ${misses.length}`)
  for (const l of misses) console.log(l)
  console.log(`\nfalse flags (genuine mail flagged, or ham_dkim not none): ${falseFlags.length}`)
  for (const l of falseFlags) console.log(l)
}
process.exitCode = targets.every(([, ok]) => ok) ? 0 : 1
