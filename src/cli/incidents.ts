/**
 * `shop-notice incidents [--all] [--json]`: the incidents of shop-notice.retailers.yaml, read
 * from the same configuration the plugin reads (the package defaults, overridden by the
 * Haraka folder's config/). Exit 0, 2 for a usage error or an invalid configuration.
 */
import { parseArgs } from 'node:util'

import { type Io, UsageError } from './io.js'
import { adminFolder, configFor } from '../config/sources.js'
import { harakaSource, loadSettings } from '../config/settings.js'
import type { Incident, Registry } from '../knowledge/registry.js'

export const INCIDENTS_USAGE = `Usage: shop-notice incidents [options]

Lists the incidents (announced leaks) of shop-notice.retailers.yaml in force now, as the
plugin judges mail by them, one per line:
BRAND<TAB>since<TAB>until<TAB>status<TAB>leaked<TAB>note

Options:
  --all               every incident, also those ended or not yet begun
  --at TIME           as at TIME (YYYY-MM-DD is that day's start, UTC; or an ISO 8601 time)
  --json              one JSON object per line instead
  --config DIR        the Haraka folder (default: $HARAKA, else the current folder)
  -h, --help          this text
`

type Status = 'in-force' | 'ended' | 'upcoming'

export interface IncidentRow extends Pick<Incident, 'since' | 'until' | 'leaked' | 'note'> {
  readonly brand: string
  readonly status: Status
}

/** Every incident of the registry with its status at `at`, by brand id then since day. */
export function incidentRows(registry: Registry, at: Date): IncidentRow[] {
  const t = at.getTime()
  const rows: IncidentRow[] = []
  for (const brand of registry.brands.values()) {
    for (const i of brand.incidents) {
      const status: Status = t < i.start ? 'upcoming' : t >= i.end ? 'ended' : 'in-force'
      rows.push({ brand: brand.id, since: i.since, until: i.until, status, leaked: i.leaked, ...(i.note ? { note: i.note } : {}) })
    }
  }
  return rows.sort((a, b) => a.brand.localeCompare(b.brand) || a.since.localeCompare(b.since))
}

/** Tabs and line breaks would break the line format. */
const cell = (s: string): string => s.replace(/[\t\r\n]+/g, ' ')

function parseAt(s: string): Date {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(s) ? new Date(s) : undefined
  if (!d || Number.isNaN(d.getTime())) throw new UsageError(`--at ${s}: expected YYYY-MM-DD or an ISO 8601 time`)
  return d
}

export async function incidentsCommand(argv: readonly string[], io: Io, now: () => Date = () => new Date()): Promise<number> {
  let values: { all?: boolean; json?: boolean; config?: string; at?: string; help?: boolean }
  let at: Date
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        all: { type: 'boolean' },
        at: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    values = parsed.values
    if (values.help) {
      io.out(INCIDENTS_USAGE)
      return 0
    }
    at = values.at === undefined ? now() : parseAt(values.at)
  } catch (err) {
    io.err(`shop-notice: ${(err as Error).message}`)
    io.err(INCIDENTS_USAGE)
    return 2
  }
  let registry: Registry
  try {
    const loaded = loadSettings(harakaSource(configFor(adminFolder(values.config))))
    for (const w of loaded.warnings) io.err(`shop-notice: warning: ${w}`)
    registry = loaded.value.registry
  } catch (err) {
    io.err(`shop-notice: invalid configuration: ${(err as Error).message}`)
    return 2
  }
  const rows = incidentRows(registry, at).filter((r) => values.all || r.status === 'in-force')
  for (const r of rows) {
    io.out(values.json ? JSON.stringify(r) : [r.brand, r.since, r.until, r.status, r.leaked.join(','), cell(r.note ?? '-')].join('\t'))
  }
  if (!rows.length) io.err(values.all ? 'shop-notice: the registry declares no incidents' : 'shop-notice: no incident in force')
  return 0
}
