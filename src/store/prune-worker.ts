/**
 * Pruning the sqlite store off the event loop. Counting a million rows takes ~70 ms and deleting
 * a hundred thousand takes seconds: done in a worker thread with its own connection, the mail
 * path never waits on it, except for SQLite's write lock, which each batch of 100 rows holds for
 * about a millisecond.
 */
import { DatabaseSync } from 'node:sqlite'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'

export interface PruneJob {
  readonly kind: 'shop-notice-prune'
  readonly file: string
  /** rows last seen before this (ms) are past retention */
  readonly cutoff: number
  readonly maxEntries: number
}

export interface PruneResult {
  readonly expired: number
  readonly surplus: number
}

/** rows deleted per statement: one short write transaction each (a larger IN-list costs far more than linearly) */
export const PRUNE_BATCH = 100
/** the pruner waits this long for a worker's write lock before giving up (the workers hold it for microseconds) */
const PRUNE_BUSY_MS = 10_000

const TABLES = [
  ['contacts', 'rcpt, sender'],
  ['names', 'rcpt, name'],
] as const

/** Deletes expired rows, then the oldest beyond `maxEntries`, per table, in batches. Synchronous. */
export function pruneFile(job: PruneJob): PruneResult {
  const done = { expired: 0, surplus: 0 }
  const db = new DatabaseSync(job.file, { timeout: PRUNE_BUSY_MS })
  try {
    for (const [table, key] of TABLES) {
      const expire = db.prepare(
        `DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE last_seen < ? ORDER BY last_seen LIMIT ${PRUNE_BATCH})`,
      )
      for (;;) {
        const n = Number(expire.run(job.cutoff).changes)
        done.expired += n
        if (n < PRUNE_BATCH) break
      }
      const oldest = db.prepare(`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} ORDER BY last_seen, ${key} LIMIT ?)`)
      let excess = Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n) - job.maxEntries
      while (excess > 0) {
        const n = Number(oldest.run(Math.min(PRUNE_BATCH, excess)).changes)
        if (n === 0) break
        done.surplus += n
        excess -= n
      }
    }
    return done
  } finally {
    db.close()
  }
}

const job = workerData as PruneJob | undefined
if (!isMainThread && job?.kind === 'shop-notice-prune' && parentPort) {
  parentPort.postMessage(pruneFile(job))
}
