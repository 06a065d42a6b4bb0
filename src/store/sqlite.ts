/**
 * Backend `sqlite`: one file (node:sqlite, WAL) shared by the worker processes of one host.
 *
 * Each call is one or a few indexed statements on primary keys, synchronous (DatabaseSync):
 * tens of microseconds, measured in docs/store.md. A worker waits for another's write lock at
 * most `[store] timeout_ms` (SQLite's busy timeout), and writes are single short transactions
 * of UPSERTs. Expired and surplus rows are deleted on a timer by one worker process at a time,
 * in a thread of its own (prune-worker.ts).
 */
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { Worker } from 'node:worker_threads'

import { BaseStore, type Lookup, StoreUnavailable } from './base.js'
import type { PruneJob, PruneResult } from './prune-worker.js'
import { Hasher, loadOrCreateSecretFile } from './secret.js'
import { MAX_NAMES_PER_RECIPIENT, type OpenOptions, type StoreConfig } from './types.js'

const SCHEMA_VERSION = '1'
/** how long a worker waits for another's lock while opening (schema, WAL switch): start-up only */
const OPEN_BUSY_MS = 5000
/** after a failed open, the next call tries again no sooner than this */
const REOPEN_AFTER_MS = 30_000
/** a pruning thread still running after this is stopped (it resumes next interval) */
const PRUNE_TIMEOUT_MS = 5 * 60_000
export const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
  rcpt BLOB NOT NULL, sender BLOB NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (rcpt, sender)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contacts_last_seen ON contacts (last_seen);
CREATE TABLE IF NOT EXISTS names (
  rcpt BLOB NOT NULL, name BLOB NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (rcpt, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS names_last_seen ON names (last_seen);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '${SCHEMA_VERSION}'), ('pruned_at', '0');
`

interface Statements {
  contact: StatementSync
  names: StatementSync
  upsertContact: StatementSync
  upsertName: StatementSync
  capNames: StatementSync
  claimPrune: StatementSync
  forgetContacts: StatementSync
  forgetNames: StatementSync
}

interface Open {
  db: DatabaseSync
  hasher: Hasher
  st: Statements
}

/** The secret's file: beside the database, `<path>.key`, mode 0600. */
export const secretFileOf = (dbPath: string): string => `${dbPath}.key`

export class SqliteStore extends BaseStore {
  readonly file: string
  #open: Open | undefined
  #retryAt = 0
  #closed = false
  #pruning = false
  #timer: NodeJS.Timeout | undefined
  #worker: Worker | undefined

  constructor(config: StoreConfig, options: OpenOptions) {
    super('sqlite', config, options)
    this.file = path.resolve(options.baseDir, config.path)
    this.#tryOpen()
    const every = options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS
    if (every > 0) {
      this.#timer = setInterval(() => void this.prune(), every)
      this.#timer.unref()
    }
  }

  #tryOpen(): Open | undefined {
    if (this.#open || this.#closed) return this.#open
    if (Date.now() < this.#retryAt) return undefined
    let db: DatabaseSync | undefined
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o750 })
      const hasher = new Hasher(loadOrCreateSecretFile(secretFileOf(this.file)))
      const fresh = !fs.existsSync(this.file)
      db = new DatabaseSync(this.file, { timeout: OPEN_BUSY_MS })
      db.exec('PRAGMA journal_mode = WAL')
      db.exec('PRAGMA synchronous = NORMAL')
      db.exec('BEGIN IMMEDIATE')
      try {
        db.exec(SCHEMA)
        db.exec('COMMIT')
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK')
        throw err
      }
      const version = (db.prepare(`SELECT value FROM meta WHERE key = 'schema'`).get() as { value: string } | undefined)?.value
      if (version !== SCHEMA_VERSION) throw new Error(`${this.file}: schema version ${version}, this plugin knows ${SCHEMA_VERSION}`)
      if (fresh) fs.chmodSync(this.file, 0o600)
      db.exec(`PRAGMA busy_timeout = ${Math.max(1, Math.trunc(this.config.timeout_ms))}`)
      const st: Statements = {
        contact: db.prepare('SELECT first_seen, last_seen, count FROM contacts WHERE rcpt = ? AND sender = ? AND last_seen >= ?'),
        names: db.prepare('SELECT name FROM names WHERE rcpt = ? AND last_seen >= ?'),
        // a row past retention that the pruner has not reached yet starts again
        upsertContact: db.prepare(`INSERT INTO contacts (rcpt, sender, first_seen, last_seen, count) VALUES (:r, :s, :at, :at, 1)
          ON CONFLICT (rcpt, sender) DO UPDATE SET
            first_seen = CASE WHEN last_seen < :cutoff THEN :at ELSE min(first_seen, :at) END,
            count = CASE WHEN last_seen < :cutoff THEN 1 ELSE count + 1 END,
            last_seen = CASE WHEN last_seen < :cutoff THEN :at ELSE max(last_seen, :at) END`),
        upsertName: db.prepare(`INSERT INTO names (rcpt, name, first_seen, last_seen, count) VALUES (:r, :n, :at, :at, 1)
          ON CONFLICT (rcpt, name) DO UPDATE SET
            first_seen = CASE WHEN last_seen < :cutoff THEN :at ELSE min(first_seen, :at) END,
            count = CASE WHEN last_seen < :cutoff THEN 1 ELSE count + 1 END,
            last_seen = CASE WHEN last_seen < :cutoff THEN :at ELSE max(last_seen, :at) END`),
        capNames: db.prepare(`DELETE FROM names WHERE rcpt = :r AND name NOT IN
          (SELECT name FROM names WHERE rcpt = :r ORDER BY last_seen DESC, name LIMIT ${MAX_NAMES_PER_RECIPIENT})`),
        claimPrune: db.prepare(`UPDATE meta SET value = :now WHERE key = 'pruned_at' AND CAST(value AS INTEGER) <= :before`),
        // rcpt leads both primary keys: each is a range of one index, expired rows included
        forgetContacts: db.prepare('DELETE FROM contacts WHERE rcpt = ?'),
        forgetNames: db.prepare('DELETE FROM names WHERE rcpt = ?'),
      }
      this.#open = { db, hasher, st }
      return this.#open
    } catch (err) {
      try {
        db?.close()
      } catch {
        // already unusable
      }
      this.#retryAt = Date.now() + REOPEN_AFTER_MS
      this.fail('open', err)
      return undefined
    }
  }

  #need(): Open {
    const o = this.#tryOpen()
    if (!o) throw new StoreUnavailable(this.#closed ? 'the store is closed' : `${this.file} could not be opened`)
    return o
  }

  protected lookup(rcpt: string, sender: string, nameKeys: readonly string[], now: number): Promise<Lookup> {
    const { hasher, st } = this.#need()
    const r = hasher.hash('rcpt', rcpt)
    const cutoff = this.cutoff(now)
    const row = st.contact.get(r, hasher.hash('sender', sender), cutoff) as { first_seen: number; last_seen: number; count: number } | undefined
    const known = (st.names.all(r, cutoff) as { name: Uint8Array }[]).map((x) => Buffer.from(x.name).toString('base64'))
    const knownSet = new Set(known)
    return Promise.resolve({
      ...(row ? { seen: { first: row.first_seen, last: row.last_seen, count: row.count } } : {}),
      knownNames: knownSet.size,
      matched: nameKeys.map((k) => knownSet.has(hasher.hash('name', k).toString('base64'))),
    })
  }

  protected remember(rcpt: string, sender: string, nameKeys: readonly string[], at: number): Promise<void> {
    const { db, hasher, st } = this.#need()
    const r = hasher.hash('rcpt', rcpt)
    const cutoff = this.cutoff(this.now())
    db.exec('BEGIN IMMEDIATE')
    try {
      st.upsertContact.run({ r, s: hasher.hash('sender', sender), at, cutoff })
      for (const k of nameKeys) st.upsertName.run({ r, n: hasher.hash('name', k), at, cutoff })
      if (nameKeys.length > 0) st.capNames.run({ r })
      db.exec('COMMIT')
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw err
    }
    return Promise.resolve()
  }

  /**
   * One write transaction deletes the recipient's contacts and names (expired rows too), with
   * SQLite's secure_delete on for it: the freed cells are overwritten with zeros, not left in
   * free pages. Then a checkpoint, best effort, copies the change into the database and truncates
   * the WAL, whose earlier frames hold the rows as they were (a connection still reading at that
   * moment leaves part of it to later checkpoints).
   */
  protected erase(rcpt: string): Promise<{ contacts: number; names: number }> {
    const { db, hasher, st } = this.#need()
    const r = hasher.hash('rcpt', rcpt)
    const before = (db.prepare('PRAGMA secure_delete').get() as { secure_delete: number } | undefined)?.secure_delete ?? 0
    db.exec('PRAGMA secure_delete = ON')
    let removed: { contacts: number; names: number }
    try {
      db.exec('BEGIN IMMEDIATE')
      try {
        removed = { contacts: Number(st.forgetContacts.run(r).changes), names: Number(st.forgetNames.run(r).changes) }
        db.exec('COMMIT')
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK')
        throw err
      }
    } finally {
      db.exec(`PRAGMA secure_delete = ${before ? 'ON' : 'OFF'}`)
    }
    if (removed.contacts + removed.names > 0) {
      try {
        db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get()
      } catch {
        // a reader held it past the busy timeout: later checkpoints reuse or truncate the WAL
      }
    }
    return Promise.resolve(removed)
  }

  /**
   * Deletes what is past retention, then the oldest rows beyond `[store] max_entries` per
   * table, in a worker thread (prune-worker.ts): the event loop is never held by it. Several
   * workers share the file: one prunes per interval (a claim in the meta table), the others
   * skip. `force` ignores the claim (tests, maintenance). Resolves to the rows deleted; a
   * failure is counted.
   */
  async prune(force = false): Promise<PruneResult> {
    const none = { expired: 0, surplus: 0 }
    if (this.#pruning || this.#closed) return none
    this.#pruning = true
    try {
      const { st } = this.#need()
      const now = this.now()
      const every = this.options.pruneIntervalMs || DEFAULT_PRUNE_INTERVAL_MS
      if (!force && Number(st.claimPrune.run({ now, before: now - every / 2 }).changes) === 0) return none
      const job: PruneJob = { kind: 'shop-notice-prune', file: this.file, cutoff: this.cutoff(now), maxEntries: this.config.max_entries }
      return await new Promise<PruneResult>((resolve, reject) => {
        const worker = new Worker(path.join(__dirname, 'prune-worker.js'), { workerData: job })
        this.#worker = worker
        let result: PruneResult | undefined
        const timer = setTimeout(() => void worker.terminate(), PRUNE_TIMEOUT_MS)
        timer.unref()
        worker.once('message', (r: PruneResult) => (result = r))
        worker.once('error', reject)
        worker.once('exit', (code) => {
          clearTimeout(timer)
          this.#worker = undefined
          if (result) resolve(result)
          else if (this.#closed) resolve(none)
          else reject(new Error(`the pruning thread ended (${code}) without a result`))
        })
      })
    } catch (err) {
      this.fail('prune', err)
      return none
    } finally {
      this.#pruning = false
    }
  }

  override async ready(): Promise<boolean> {
    return this.#tryOpen() !== undefined
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    await this.#worker?.terminate()
    const o = this.#open
    this.#open = undefined
    try {
      o?.db.close()
    } catch {
      // closing an unusable handle
    }
  }
}
