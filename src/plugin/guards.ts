/**
 * Guards for what Haraka core itself does to a message, whether or not the message is scanned.
 *
 * Haraka keeps at most `connection.ini [headers] max_lines` (1,000) header lines of a message and
 * drops the rest without a word: the stored message lacks them, and the client hears 250. A
 * message cut like that is refused here (552 5.3.4) before anything stores it. The count includes
 * the Received field core itself feeds in first (2-3 folded lines), and core keeps no count of
 * what it dropped, so a header that reaches `max_lines` lines exactly is refused too.
 */
import constants from 'haraka-constants'
import DSN from 'haraka-dsn'

/** Haraka's default, as core falls back to it */
export const CORE_MAX_HEADER_LINES = 1000

interface GuardedTransaction {
  header_lines?: readonly string[]
  cfg?: { headers?: { max_lines?: number } }
  results?: { add(plugin: unknown, obj: Record<string, unknown>): void }
}

interface GuardedConnection {
  transaction?: GuardedTransaction | null
  logwarn(plugin: unknown, msg: string): void
}

type Next = (code?: number, msg?: string | object) => void

/** The header line count and core's limit when core has (or may have) dropped header lines, else undefined. */
export function headerLinesCut(txn: GuardedTransaction): { lines: number; max: number } | undefined {
  const max = txn.cfg?.headers?.max_lines || CORE_MAX_HEADER_LINES
  const lines = txn.header_lines?.length ?? 0
  return lines >= max ? { lines, max } : undefined
}

/** data_post: refuses a message whose header core cut at its line limit (552 5.3.4), lets any other through. */
export function refuse_cut_headers(this: unknown, next: Next, connection: GuardedConnection): void {
  const txn = connection.transaction
  const cut = txn ? headerLinesCut(txn) : undefined
  if (!txn || !cut) return next()
  txn.results?.add(this, { fail: `header_lines(>=${cut.max})`, emit: true })
  connection.logwarn(this, `refused: ${cut.lines} header lines kept of more, at connection.ini [headers] max_lines=${cut.max}: the rest were dropped by core`)
  next(constants.DENY, DSN.sys_msg_too_big(`Message header too long: ${cut.max} or more header lines`, 552))
}
