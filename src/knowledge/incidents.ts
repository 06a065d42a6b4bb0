/**
 * A brand's incidents (shop-notice.retailers.yaml `incidents:`): the data leaks it announced,
 * validated at load; while one is in force, mail in the brand's name is judged more strictly.
 */
import { isRecord } from '../shared/validate.js'

const KNOWN_INCIDENT_KEYS = new Set(['since', 'until', 'days', 'leaked', 'note'])
const DAY_MS = 86_400_000

/** The kinds of data an incident may have leaked. */
export const LEAKED = ['card', 'email', 'name', 'address', 'phone', 'password', 'order-history'] as const
export type Leaked = (typeof LEAKED)[number]

/** A data leak the brand announced: while it is in force, mail in the brand's name is judged more strictly. */
export interface Incident {
  /** first day in force, YYYY-MM-DD (a UTC calendar day) */
  readonly since: string
  /** last day in force, YYYY-MM-DD, as written or computed from `days` */
  readonly until: string
  readonly leaked: readonly Leaked[]
  readonly note?: string
  /** in force from `start` (inclusive) to `end` (exclusive), epoch milliseconds */
  readonly start: number
  readonly end: number
}

/** A real calendar date written YYYY-MM-DD, as epoch milliseconds (UTC midnight). */
function dayOf(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined
  const ms = Date.parse(`${v}T00:00:00Z`)
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v ? undefined : ms
}

export function parseIncidents(
  v: unknown,
  at: string,
  fail: (key: string, problem: string) => never,
  warnings: string[],
  file: string,
): Incident[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) return fail(at, 'expected a list of incidents')
  return v.map((item: unknown, i): Incident => {
    const where = `${at}[${i}]`
    if (!isRecord(item)) return fail(where, 'expected a mapping with since, until or days, leaked')
    for (const key of Object.keys(item)) if (!KNOWN_INCIDENT_KEYS.has(key)) warnings.push(`${file}: ${where}.${key}: unknown key, ignored`)
    const start = dayOf(item.since)
    if (start === undefined) return fail(`${where}.since`, `${JSON.stringify(item.since)}: expected a real date YYYY-MM-DD`)
    if ((item.until === undefined) === (item.days === undefined)) return fail(where, 'expected exactly one of `until` and `days`')
    let end: number
    if (item.until !== undefined) {
      const last = dayOf(item.until)
      if (last === undefined) return fail(`${where}.until`, `${JSON.stringify(item.until)}: expected a real date YYYY-MM-DD`)
      if (last < start) return fail(`${where}.until`, `${item.until as string} is before since ${item.since as string}`)
      end = last + DAY_MS
    } else {
      const days = item.days
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3660) {
        return fail(`${where}.days`, `${JSON.stringify(days)}: expected a whole number of days from 1 to 3660`)
      }
      end = start + days * DAY_MS
    }
    const leaked = item.leaked
    if (!Array.isArray(leaked) || leaked.length === 0) return fail(`${where}.leaked`, `expected a non-empty list of ${LEAKED.join(', ')}`)
    leaked.forEach((l: unknown, j) => {
      if (!(LEAKED as readonly unknown[]).includes(l)) fail(`${where}.leaked[${j}]`, `${JSON.stringify(l)}: expected one of ${LEAKED.join(', ')}`)
    })
    if (item.note !== undefined && (typeof item.note !== 'string' || !item.note.trim())) fail(`${where}.note`, 'expected a non-empty string')
    return {
      since: item.since as string,
      until: new Date(end - DAY_MS).toISOString().slice(0, 10),
      leaked: [...new Set(leaked as Leaked[])],
      ...(typeof item.note === 'string' ? { note: item.note.trim() } : {}),
      start,
      end,
    }
  })
}

/** The brand's incidents in force at `at`: from the first day of `since` to the end of the last day (UTC). */
export const incidentsInForce = (brand: { readonly incidents: readonly Incident[] }, at: Date): Incident[] =>
  brand.incidents.filter((i) => at.getTime() >= i.start && at.getTime() < i.end)

