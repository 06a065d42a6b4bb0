/**
 * The sender: an address in the display name, Reply-To and envelope off the brand, free mail.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { DomainIndex } from '../knowledge/domains.js'
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import { addressDomainIn } from '../message/find.js'
import type { Detector } from './context.js'
import { examples, unique } from './options.js'
import type { BrandClaim, ClaimSource } from './claim.js'

export interface SenderInput {
  readonly facts: Pick<MessageFacts, 'from' | 'replyTo'>
  readonly claim?: BrandClaim
  readonly envelopeFrom?: string
  readonly isNotice: boolean
  /** DMARC itself passed for the From domain (not only an aligned identity without a DMARC record) */
  readonly dmarcPass?: boolean
}

/** Claims made only in the message's words: its subject, its text, its links. */
const TEXT_CLAIMS: ReadonlySet<ClaimSource> = new Set(['subject', 'body', 'links'])

/** The sender: an address in the display name, Reply-To and envelope off the brand, free mail. */
function senderHits(input: SenderInput, domains: DomainIndex): Hit[] {
  const hits: Hit[] = []
  const from = input.facts.from
  const fromReg = from?.domain ? domains.host(from.domain).registrable : ''
  if (from) {
    const words = [
      ...from.name.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u),
      ...from.address.slice(0, Math.max(0, from.address.lastIndexOf('@'))).toLowerCase().split(/[^a-z0-9]+/),
    ].filter((w) => /^[\p{L}\p{N}]{5,40}$/u.test(w) && /[a-z]/.test(w)) // Latin words, also those with a Cyrillic а in them
    for (const w of unique(words)) {
      const look = domains.imitatedName(w)
      if (look) {
        hits.push({ symbol: 'SENDER_LOOKALIKE_NAME', options: [w, look.brand.id, look.how] })
        break
      }
    }
  }
  const inName = from ? addressDomainIn(from.name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}|\p{M}/gu, '')) : undefined
  if (inName) {
    const reg = domains.host(inName.toLowerCase()).registrable || inName.toLowerCase()
    if (reg !== fromReg) hits.push({ symbol: 'SENDER_DISPLAY_NAME_ADDRESS', options: [inName.toLowerCase(), from?.domain || '-'] })
  }
  if (!input.isNotice) return hits

  const claim = input.claim
  const replyDomains = unique(input.facts.replyTo.map((r) => r.domain).filter(Boolean))
  if (claim) {
    // a sender that passed DMARC for its own domain and names the brand only in its words (a
    // newsletter naming a shop): replies to its own domain are its own business, as its links are
    const ownReplies = input.dmarcPass && TEXT_CLAIMS.has(claim.via) ? fromReg : undefined
    const off = replyDomains.filter((d) => {
      const reg = domains.host(d).registrable
      return !claim.brand.link_domains.includes(reg) && reg !== ownReplies
    })
    if (off.length) hits.push({ symbol: 'SENDER_REPLY_TO_OFF_BRAND', options: [claim.brand.id, ...examples(off)] })
  }
  const freeReply = replyDomains.filter((d) => domains.inList(d, 'free_mail_domains') && domains.host(d).registrable !== fromReg)
  if (freeReply.length) hits.push({ symbol: 'SENDER_REPLY_TO_FREEMAIL', options: examples(freeReply) })
  if (from?.domain && domains.inList(from.domain, 'free_mail_domains') && !claim?.brand.sending_domains.includes(fromReg)) {
    hits.push({ symbol: 'SENDER_FREEMAIL', options: [from.domain] })
  }
  const envelope = input.envelopeFrom?.includes('@') ? input.envelopeFrom.slice(input.envelopeFrom.lastIndexOf('@') + 1).toLowerCase() : ''
  if (claim && envelope) {
    const reg = domains.host(envelope).registrable
    if (reg && !claim.brand.link_domains.includes(reg)) hits.push({ symbol: 'SENDER_ENVELOPE_OFF_BRAND', options: [claim.brand.id, envelope] })
  }
  return hits
}

export const senderDetector: Detector = (c) =>
  senderHits(
    { facts: c.facts, claim: c.claim, envelopeFrom: c.envelopeFrom, isNotice: c.isNotice, dmarcPass: c.fromAuth.result === 'pass' && c.fromAuth.method === 'dmarc' },
    c.knowledge.domains,
  )
