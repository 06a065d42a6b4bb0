/**
 * The kind of notice a message claims to be, from its subject and the first lines of its body.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { MessageFacts } from '../message/parse.js'
import type { NoticeKind, PhraseBook } from '../knowledge/phrases.js'
import { normaliseText } from '../message/text.js'

export interface KindClaim {
  readonly kind: NoticeKind
  /** summed weights of the phrases found */
  readonly weight: number
  /** the phrases found, with where: `subject:入金確認` */
  readonly evidence: readonly string[]
}

/** What the message claims to be, from its subject and the first lines of its body. */
export function detectKind(facts: Pick<MessageFacts, 'subject' | 'text'>, book: PhraseBook): KindClaim | undefined {
  const subject = normaliseText(facts.subject)
  const lead = normaliseText(facts.text.slice(0, book.lead_chars))
  let best: KindClaim | undefined
  for (const { kind, phrases } of book.kinds) {
    let weight = 0
    const evidence: string[] = []
    for (const p of phrases) {
      if (subject.includes(p)) {
        weight += book.weights.subject
        evidence.push(`subject:${p}`)
      }
      if (lead.includes(p)) {
        weight += book.weights.lead
        evidence.push(`body:${p}`)
      }
    }
    if (weight >= book.notice_min && (!best || weight > best.weight)) best = { kind, weight, evidence }
  }
  return best
}
