/**
 * Prints the signal table of docs/signals.md from src/verdict/symbols.ts (names, groups,
 * descriptions) and config/shop-notice.scores.yaml (default scores, composites), after a build:
 * `node scripts/signals-table.mts > /tmp/table.md`. test/unit/docs.test.ts checks the doc
 * is this output.
 */
import scores from '../dist/src/config/scores.js'
import symbols from '../dist/src/verdict/symbols.js'

const book = scores.shippedScoreBook()
console.log('| symbol | group | default score | fires when |')
console.log('|---|---|---|---|')
for (const [name, def] of Object.entries(symbols.SYMBOLS)) {
  console.log(`| \`${name}\` | ${def.group} | ${book.scores[name as keyof typeof book.scores]} | ${def.description.replace(/\|/g, '\\|')} |`)
}
console.log('\nComposites:\n')
for (const c of book.composites) console.log(`- \`${c.when}\` removes ${c.removes.map((s) => `\`${s}\``).join(', ')}: ${c.why}.`)
