/**
 * Prints the "Brands shipped" table of docs/registry.md from the shipped
 * config/shop-notice.retailers.yaml: `node scripts/brands-table.mts`. test/unit/docs.test.ts
 * checks that the doc names every shipped brand.
 */
import fs from 'node:fs'
import path from 'node:path'

import YAML from 'yaml'

interface Entry {
  names: string[]
  ambiguous_names?: string[]
  sender_names?: string[]
  sending_domains?: string[]
  roles?: string[]
  issued_by?: string[]
  sources?: string[]
}
const file = path.join(import.meta.dirname, '..', 'config', 'shop-notice.retailers.yaml')
const { retailers } = YAML.parse(fs.readFileSync(file, 'utf8')) as { retailers: Record<string, Entry> }

const some = (xs: readonly string[], n: number): string => xs.slice(0, n).join(', ') + (xs.length > n ? ', …' : '')
console.log(`${Object.keys(retailers).length} brands`)
console.log('\n| Brand id | Roles | Main names | Ambiguous names (sender names) | Sending domains | Sources |')
console.log('|---|---|---|---|---|---|')
for (const [id, b] of Object.entries(retailers)) {
  const sending = [
    ...(b.sending_domains?.length ? [some(b.sending_domains, 4)] : []),
    ...(b.issued_by?.length ? [`issued by ${b.issued_by.map((i) => `\`${i}\``).join(', ')}`] : []),
  ].join('; ')
  const cells = [`\`${id}\``, b.roles?.join(', ') ?? '', some(b.names, 6), [...(b.ambiguous_names ?? []), ...(b.sender_names ?? []).map((n) => `(${n})`)].join(', '), sending, String(b.sources?.length ?? 0)]
  console.log(`| ${cells.join(' | ')} |`)
}
