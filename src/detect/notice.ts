/**
 * Who a notice addresses, and what the relay remembers of its recipients
 * (NOTICE_PERSONAL_DATA, NOTICE_FIRST_CONTACT, NOTICE_OTHER_ADDRESSEE; docs/store.md).
 *
 * Pure like every detector: the memory is a fact handed in. scan.ts asks `memorySubject`
 * whom to ask about, the caller's `memory` function (the plugin's store) answers per
 * recipient, and `memoryHits` turns the answers into hits.
 */
import type { Hit } from '../verdict/symbols.js'
import type { Context, Detector } from './context.js'

/** What the store answered about one recipient (store/types.ts Recollection has this shape). */
export interface RecipientMemory {
  /** false: the store could not answer; nothing is drawn from it */
  readonly ok: boolean
  readonly firstContact: boolean
  readonly knownNames: number
  readonly matchedNames: readonly string[]
  readonly unknownNames: readonly string[]
}

/**
 * An authenticated notice, as the store knows its sender: the registry brand that
 * authenticated it, or the authenticated organisational domain of a shop outside the
 * registry. Only such notices are recalled, and (after the verdict) learned.
 */
export interface MemorySubject {
  readonly senderKey: string
  /** the names its greeting uses, as written */
  readonly names: readonly string[]
}

/** NOTICE_PERSONAL_DATA: whatever the memory, a notice carrying its addressee's data says so. */
export const noticeDetector: Detector = (c) =>
  c.isNotice && c.addressee && c.addressee.personal.length > 0 ? [{ symbol: 'NOTICE_PERSONAL_DATA', options: [...c.addressee.personal] }] : []

/**
 * The store's subject for this message, or undefined when it is not an authenticated notice:
 * a registry brand's claim authenticated (BRAND_AUTHENTICATED among `hits`), or no brand
 * claimed and the From domain authenticated (context.fromAuth: DMARC pass, or an aligned DKIM
 * or SPF pass where the domain publishes no DMARC), not at a free-mail provider (a mailbox
 * there proves nobody is a shop).
 */
export function memorySubject(c: Context, hits: readonly Hit[]): MemorySubject | undefined {
  if (!c.isNotice) return undefined
  const names = c.addressee?.names ?? []
  if (c.claim) {
    const ok = hits.some((h) => h.symbol === 'BRAND_AUTHENTICATED' && h.options[0] === c.claim?.brand.id)
    return ok ? { senderKey: c.claim.brand.id, names } : undefined
  }
  const passed = c.fromAuth.result === 'pass' ? c.fromAuth.domain : undefined
  if (!passed) return undefined
  if (c.knowledge.registry.lists.free_mail_domains.has(passed)) return undefined
  return { senderKey: passed, names }
}

/**
 * The memory's hits. A message to several recipients is asked about each of them, and a
 * signal fires when it holds for any (its options say for how many of those the store
 * answered). Nothing fires for a recipient the store could not answer for.
 */
export function memoryHits(subject: MemorySubject, memory: readonly RecipientMemory[]): Hit[] {
  const answered = memory.filter((m) => m.ok)
  if (answered.length === 0) return []
  const hits: Hit[] = []
  const first = answered.filter((m) => m.firstContact).length
  if (first > 0) hits.push({ symbol: 'NOTICE_FIRST_CONTACT', options: [subject.senderKey, `recipients=${first}/${answered.length}`] })
  // the names stay out of the options: they are personal data, and options go to logs and the quarantine
  const other = answered.filter((m) => m.knownNames > 0 && m.matchedNames.length === 0 && m.unknownNames.length > 0).length
  if (other > 0) hits.push({ symbol: 'NOTICE_OTHER_ADDRESSEE', options: [subject.senderKey, `recipients=${other}/${answered.length}`] })
  return hits
}
