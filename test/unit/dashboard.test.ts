/**
 * docs/examples/grafana-shop-notice.json: valid JSON, a Grafana dashboard whose every query
 * names metrics the plugin really exports (src/metrics/), with labels those metrics carry,
 * and signal names that are symbols of src/verdict/symbols.ts.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'

import { ShopNoticeMetrics } from '../../dist/src/metrics/metrics.js'
import { ClusterCollector } from '../../dist/src/metrics/cluster.js'
import { SYMBOLS } from '../../dist/src/verdict/symbols.js'

const FILE = path.join(__dirname, '..', '..', 'docs', 'examples', 'grafana-shop-notice.json')

interface Target {
  expr: string
}
interface Panel {
  title: string
  targets?: Target[]
  gridPos: { x: number; y: number; w: number; h: number }
}

t.test('the dashboard queries only metrics and labels that exist', async (t) => {
  const dash = JSON.parse(fs.readFileSync(FILE, 'utf8')) as { title: string; panels: Panel[]; templating: { list: { query: { query: string } }[] } }
  t.ok(dash.title, 'a title')
  t.ok(dash.panels.length >= 8, 'panels')

  // every metric a process exports, and the one the cluster master adds, with their label names
  const own = new ShopNoticeMetrics(() => undefined)
  // series that appear with their first event, so that their labels are known
  own.storeFailed('redis', 'recall', 'timeout')
  own.scanned(
    { verdict: 'verified', brand: 'testshop', kind: 'order', score: -4, hits: [{ symbol: 'NOTICE_FIRST_CONTACT', options: [] }], timings: { parse: 1, auth: 1, detect: 1, store: 1 } } as never,
    'accept',
    0.01,
  )
  const collector = new ClusterCollector({ on() {}, off() {}, workers: {} } as never, 10)
  const merged = await collector.collect()
  collector.close()
  const labels = new Map<string, Set<string>>()
  for (const registry of [own.registry, merged]) {
    for (const m of await registry.getMetricsAsJSON()) {
      const names = new Set<string>()
      for (const v of m.values as { labels: Record<string, unknown> }[]) for (const l of Object.keys(v.labels)) names.add(l)
      labels.set(m.name, new Set([...(labels.get(m.name) ?? []), ...names]))
    }
  }
  t.ok(labels.has('shop_notice_store_failures_total'), 'the store failure counter is exported')

  const exprs = [...dash.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr)), ...dash.templating.list.map((v) => v.query.query)]
  t.ok(exprs.length > 0)
  const used = new Set<string>()
  for (const expr of exprs) {
    for (const m of expr.matchAll(/\b(shop_notice_[a-z_]+?)(_bucket|_sum|_count)?\b(\{[^}]*\})?/g)) {
      const name = m[1]!
      used.add(name)
      t.ok(labels.has(name), `${name} exists in src/metrics (${expr})`)
      const known = labels.get(name) ?? new Set()
      for (const sel of (m[3] ?? '').matchAll(/([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        const label = sel[1]!
        if (label === 'instance') continue // Prometheus adds it per scrape target
        t.ok(known.has(label) || (label === 'le' && m[2] === '_bucket'), `${name} has label ${label}`)
        if (label === 'signal') for (const s of sel[3]!.split('|')) t.ok(Object.hasOwn(SYMBOLS, s), `${s} is a symbol`)
      }
    }
    for (const by of expr.matchAll(/by \(([^)]*)\)/g)) {
      for (const label of by[1]!.split(',').map((s) => s.trim())) {
        t.ok(label === 'instance' || label === 'le' || [...labels.values()].some((s) => s.has(label)), `grouping label ${label} exists`)
      }
    }
  }
  for (const needed of ['shop_notice_store_failures_total', 'shop_notice_verdicts_total', 'shop_notice_scan_duration_seconds']) {
    t.ok(used.has(needed), `the dashboard shows ${needed}`)
  }
  // panels do not overlap on Grafana's 24-column grid
  const cells = new Map<string, string>()
  const overlaps: string[] = []
  for (const p of dash.panels) {
    t.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`)
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        const other = cells.get(`${x},${y}`)
        if (other) overlaps.push(`${p.title} / ${other}`)
        cells.set(`${x},${y}`, p.title)
      }
    }
  }
  t.same([...new Set(overlaps)], [], 'no two panels overlap')
})
