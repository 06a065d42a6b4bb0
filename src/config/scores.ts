/**
 * shop-notice.scores.yaml: the score of every signal and the composites, as data an admin
 * overrides (rspamd's scores.d and composites.conf). The names stay typed in code
 * (verdict/symbols.ts); this file gives each its weight. The package's file must score
 * every symbol; an admin's copy, merged over it key by key by haraka-config, may change any.
 */
import fs from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'

import { type Composite } from '../verdict/score.js'
import { SYMBOLS, type SymbolName, isSymbolName } from '../verdict/symbols.js'
import { Checker, type Mapping } from '../shared/validate.js'

export const SCORES_FILE = 'shop-notice.scores.yaml'

export interface ScoreBook {
  readonly scores: Readonly<Record<SymbolName, number>>
  readonly composites: readonly Composite[]
}

const COMPOSITE_KEYS = new Set(['when', 'removes', 'why'])

/**
 * Validates the scores file as haraka-config parsed and merged it. Every symbol of
 * symbols.ts must have a score (the package's file gives them all); a name the code does
 * not know is an error, in `scores` and in the composites alike.
 */
export function parseScores(raw: unknown, file: string): { value: ScoreBook; warnings: string[] } {
  const c: Checker = new Checker(file)
  if (raw === null || raw === undefined || (typeof raw === 'object' && Object.keys(raw).length === 0)) {
    c.fail('scores', 'missing: the file is empty or could not be read')
  }
  const top = c.mapping(raw, '(top level)', 'expected a mapping with `scores` and `composites`')
  c.unknownKeys(top, new Set(['scores', 'composites']), (k) => k)

  const given = c.mapping(top.scores, 'scores', 'expected a mapping of symbol name to score')
  for (const name of Object.keys(given)) {
    if (!isSymbolName(name)) c.fail(`scores.${name}`, 'unknown symbol (docs/signals.md lists them)')
  }
  const scores = Object.fromEntries(
    Object.keys(SYMBOLS).map((name) => {
      if (given[name] === undefined) c.fail(`scores.${name}`, 'missing: every symbol needs a score')
      return [name, c.number(given[name], `scores.${name}`)]
    }),
  ) as Record<SymbolName, number>

  const symbol = (v: unknown, key: string): SymbolName =>
    typeof v === 'string' && isSymbolName(v) ? v : c.bad(key, 'expected a symbol name (docs/signals.md lists them)', v)
  const composites: Composite[] = []
  const declared: Mapping = top.composites === undefined || top.composites === null ? {} : c.mapping(top.composites, 'composites', 'expected a mapping of composite name to { when, removes, why }')
  for (const [name, def] of Object.entries(declared)) {
    const at = `composites.${name}`
    const d = c.mapping(def, at, 'expected a mapping with `when`, `removes` and `why`')
    c.unknownKeys(d, COMPOSITE_KEYS, (k) => `${at}.${k}`)
    const when = symbol(d.when, `${at}.when`)
    if (!Array.isArray(d.removes)) c.fail(`${at}.removes`, 'expected a list of symbol names ([] turns the composite off)')
    const removes = (d.removes as unknown[]).map((r, i) => symbol(r, `${at}.removes[${i}]`))
    if (removes.includes(when)) c.fail(`${at}.removes`, `${when} cannot remove itself`)
    const why = c.string(d.why ?? '', `${at}.why`).trim()
    if (removes.length) composites.push({ name, when, removes, why })
  }
  return { value: { scores, composites }, warnings: c.warnings }
}

/** The package's config/ folder (dist/src/config/ is three levels below the package). */
const PACKAGE_CONFIG = path.resolve(__dirname, '..', '..', '..', 'config')

let shipped: ScoreBook | undefined

/** The package's own scores file, read once: the defaults of parseIni when no book is given. */
export function shippedScoreBook(): ScoreBook {
  if (!shipped) {
    const file = path.join(PACKAGE_CONFIG, SCORES_FILE)
    shipped = parseScores(YAML.parse(fs.readFileSync(file, 'utf8')), file).value
  }
  return shipped
}
