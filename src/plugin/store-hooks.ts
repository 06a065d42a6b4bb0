/**
 * The state store in the plugin (docs/store.md): opened when the plugin loads (each Haraka
 * process holds its own handle), opened again when a reload changes `[store]` or `[redis]`,
 * closed at shutdown. Asked before the detectors run (scan()'s `memory`), taught after the
 * verdict. A store failure never holds mail: the scan goes on as if nothing were
 * remembered, and the failure is counted (shop_notice_store_failures_total) and logged.
 */
import path from 'node:path'

import { adminFolder } from '../config/sources.js'
import type { MemorySubject, RecipientMemory } from '../detect/index.js'
import type { ScanResult } from '../scan.js'
import { type Store, type StoreConfig, type StoreFailure, openStore } from '../store/index.js'
import { type ShopNoticePlugin, type Transaction, addressOf } from './haraka.js'

/** Recipients asked about and taught per message at most (Haraka's default limit is 100 too). */
export const MAX_RECIPIENTS = 100
/** One log line per kind of failure per this many milliseconds: a Redis down must not flood the log. */
const LOG_EVERY_MS = 60_000

export interface StoreState {
  readonly store: Store
  /** the settings it was opened with, to know whether a reload needs a new one */
  readonly key: string
}

/**
 * The Haraka folder a relative `[store] path` is resolved against: the folder whose config/
 * overrides the package's (haraka-config's overrides_path), else $HARAKA or the current one.
 */
export function harakaFolderOf(plugin: ShopNoticePlugin): string {
  const overrides = plugin.config.overrides_path
  return typeof overrides === 'string' && overrides ? path.dirname(path.resolve(overrides)) : adminFolder()
}

const storeKey = (c: StoreConfig, baseDir: string): string => JSON.stringify([c, baseDir])

/** Opens the configured store, or a new one when `[store]`/`[redis]` changed; the old one is closed. */
export function syncStore(this: ShopNoticePlugin): void {
  const config = this.shopNotice?.settings.store
  if (!config) return
  const baseDir = harakaFolderOf(this)
  const key = storeKey(config, baseDir)
  const prev = this.shopNoticeStore
  if (prev?.key === key) return
  const logged = new Map<string, { at: number; suppressed: number }>()
  const onFailure = (f: StoreFailure): void => {
    this.shopNoticeMetrics?.metrics.storeFailed(f.backend, f.op, f.reason)
    const kind = `${f.op}/${f.reason}`
    const now = Date.now()
    const last = logged.get(kind)
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++
      return
    }
    const more = last?.suppressed ? ` (${last.suppressed} more like it since the last line)` : ''
    logged.set(kind, { at: now, suppressed: 0 })
    this.logwarn(`store ${f.backend} ${f.op} failed (${f.reason}): ${f.error?.message ?? '-'}; mail is scanned as if nothing were remembered${more}`)
  }
  const store = openStore(config, { baseDir, onFailure })
  this.shopNoticeStore = { store, key }
  if (prev) {
    this.loginfo(`store reopened: backend=${config.backend}`)
    void prev.store.close().catch(() => undefined)
  }
}

/** At shutdown: the store's handle (sqlite file, Redis connection) goes. */
export async function closeStore(this: ShopNoticePlugin): Promise<void> {
  const s = this.shopNoticeStore
  this.shopNoticeStore = undefined
  await s?.store.close().catch(() => undefined)
}

/** The transaction's recipients, each once, at most MAX_RECIPIENTS. */
export function recipientsOf(txn: Transaction): string[] {
  const out = new Set<string>()
  for (const r of txn.rcpt_to ?? []) {
    const a = addressOf(r)
    if (a) out.add(a)
    if (out.size >= MAX_RECIPIENTS) break
  }
  return [...out]
}

/** scan()'s memory for one transaction: each recipient asked side by side, each call bounded by `[store] timeout_ms`. */
export function memoryFor(this: ShopNoticePlugin, txn: Transaction): ((s: MemorySubject) => Promise<readonly RecipientMemory[]>) | undefined {
  const store = this.shopNoticeStore?.store
  if (!store || store.backend === 'none') return undefined
  const rcpts = recipientsOf(txn)
  return (s) => Promise.all(rcpts.map((r) => store.recall(r, s.senderKey, s.names)))
}

/**
 * After the verdict: an authenticated notice (`verified`, or an unregistered shop's
 * `notice`; never a flagged one) teaches the store, for each recipient. Resolves when
 * done, within `[store] timeout_ms`; never rejects.
 */
export async function learnFrom(this: ShopNoticePlugin, txn: Transaction, result: ScanResult): Promise<void> {
  const store = this.shopNoticeStore?.store
  const subject = result.memory
  if (!store || store.backend === 'none' || !subject) return
  if (result.verdict !== 'verified' && result.verdict !== 'notice') return
  await Promise.all(recipientsOf(txn).map((r) => store.learn(r, subject.senderKey, subject.names)))
}
