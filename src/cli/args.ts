/**
 * Arguments and times as the command line reads and writes them: local days and
 * times, and durations such as `30d`.
 */
import { UsageError } from './io.js'

const pad = (n: number): string => String(n).padStart(2, '0')

/** Local time with its offset: `2026-05-21T19:00:01+09:00`. */
export function localTime(d: Date): string {
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const a = Math.abs(off)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
}

/** `YYYY-MM-DD` is a local day: its start (or, for `end`, the next day's start); anything else an ISO 8601 time. */
export function parseDate(s: string, what: string, end = false): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]) - 1, Number(day[3])]
    const start = new Date(y, m, d)
    if (start.getFullYear() !== y || start.getMonth() !== m || start.getDate() !== d) throw new UsageError(`${what} ${s}: no such day`)
    return end ? new Date(y, m, d + 1) : start
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s))) return new Date(s)
  throw new UsageError(`${what} ${s}: expected YYYY-MM-DD or an ISO 8601 time`)
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/** `30d`, `12h`, `90m`, `2w` in milliseconds; undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d{1,6})([mhdw])$/.exec(s.trim())
  if (!m) return undefined
  return Number(m[1]) * UNIT_MS[m[2]!]!
}

