/**
 * What every detector sees: the message's facts, its authentication, the knowledge
 * (registry, phrase book, domain index), and what is decided once before them: the
 * kind of notice, the brand claim, the lookalike domains. One Detector signature.
 */
import type { AuthFacts } from '../auth/authenticate.js'
import type { DomainIndex } from '../knowledge/domains.js'
import type { PhraseBook } from '../knowledge/phrases.js'
import type { Registry } from '../knowledge/registry.js'
import { type Addressee, readAddressee } from '../message/addressee.js'
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import { type BrandClaim, type SenderBrands, claimBrand, claimMakesNotice, isForwarded, senderBrands } from './claim.js'
import { type Lookalikes, findLookalikes, imitatedBrand } from './domain.js'
import { type KindClaim, detectKind } from './kind.js'

/** The configuration's knowledge the detectors read (Settings has it all). */
export interface Knowledge {
  readonly registry: Registry
  readonly phrases: PhraseBook
  readonly domains: DomainIndex
}

export interface Context {
  readonly facts: MessageFacts
  readonly auth: AuthFacts
  readonly knowledge: Knowledge
  /** MAIL FROM, when known */
  readonly envelopeFrom?: string
  readonly kind?: KindClaim
  readonly sender: SenderBrands
  readonly fromDomain?: string
  readonly looks: Lookalikes
  readonly claim?: BrandClaim
  /** a shop notice: its words say so, or it speaks for a brand, or imitates one's domain */
  readonly isNotice: boolean
  /** a notice's greeting names and the personal data it carries (read only for notices) */
  readonly addressee?: Addressee
}

/** A detector family: the hits it finds in one message. Pure. */
export type Detector = (c: Context) => Hit[]

/** The kind, the claim and the lookalikes, decided once for every detector. */
export function contextOf(facts: MessageFacts, auth: AuthFacts, knowledge: Knowledge, envelopeFrom?: string): Context {
  const { phrases: book, domains } = knowledge
  const kind = detectKind(facts, book)
  const sender = senderBrands(facts, knowledge.registry, !!kind)
  const fromDomain = facts.from?.domain
  const forwarded = isForwarded(facts.subject, book)
  const looks = findLookalikes(fromDomain, sender.fromBrand, facts.links, domains)
  const imitated = forwarded ? undefined : imitatedBrand(looks)
  const claim = claimBrand({ sender, facts, isNotice: !!kind, forwarded, imitated, domains, leadChars: book.lead_chars })
  // a message imitating a brand's domain speaks for the shop whatever its words
  const isNotice = !!kind || claimMakesNotice(claim) || imitatedBrand(looks) !== undefined
  const addressee = isNotice ? readAddressee(facts.text) : undefined
  return { facts, auth, knowledge, envelopeFrom, kind, sender, fromDomain, looks, claim, isNotice, addressee }
}
