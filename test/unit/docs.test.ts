/** The documentation names every signal with its default score, and every configuration key. */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import YAML from 'yaml'

import { INI_SCHEMA } from '../../dist/src/config/settings.js'
import { shippedScoreBook } from '../../dist/src/config/scores.js'
import { SYMBOLS, type SymbolName } from '../../dist/src/verdict/symbols.js'

const ROOT = path.resolve(__dirname, '..', '..')
const doc = (name: string): string => fs.readFileSync(path.join(ROOT, 'docs', name), 'utf8')

t.test('docs/signals.md holds the table scripts/signals-table.mts prints, every symbol with its group and default score', async (t) => {
  const signals = doc('signals.md')
  const table = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'signals-table.mts')], { cwd: ROOT, encoding: 'utf8' })
  const between = /<!-- signals table: generated -->\n([\s\S]*?)<!-- end of generated table -->/.exec(signals)?.[1]
  t.equal(between, table, 'the generated table, as printed (run the script and paste its output)')
  const { scores } = shippedScoreBook()
  for (const [name, def] of Object.entries(SYMBOLS)) {
    t.ok(signals.includes(`| \`${name}\` | ${def.group} | ${scores[name as SymbolName]} |`), name)
  }
})

t.test('docs/configuration.md lists every key of shop-notice.ini, and the shipped file sets each', async (t) => {
  const conf = doc('configuration.md')
  const ini = fs.readFileSync(path.resolve(__dirname, '..', '..', 'config', 'shop-notice.ini'), 'utf8')
  for (const [section, keys] of Object.entries(INI_SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      t.ok(conf.includes(`| \`[${section}] ${key}\` |`), `[${section}] ${key} documented`)
      const m = new RegExp(`^${key}=(.*)$`, 'm').exec(ini.slice(ini.indexOf(`[${section}]`)))
      t.ok(m, `[${section}] ${key} in config/shop-notice.ini`)
      if (m && m[1] !== '') t.equal(String(spec.default), m[1], `[${section}] ${key}: the shipped value is the schema default`)
    }
  }
})

t.test('docs/registry.md names every shipped brand, with its count', async (t) => {
  const registry = doc('registry.md')
  const file = fs.readFileSync(path.resolve(__dirname, '..', '..', 'config', 'shop-notice.retailers.yaml'), 'utf8')
  const ids = Object.keys((YAML.parse(file) as { retailers: Record<string, unknown> }).retailers)
  t.ok(registry.includes(`ships ${ids.length} brands`), `the doc says ${ids.length} brands`)
  for (const id of ids) t.ok(registry.includes(`| \`${id}\` |`), id)
})
