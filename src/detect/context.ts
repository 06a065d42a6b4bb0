/**
 * What every detector sees: the message's facts, its authentication, the knowledge
 * (registry, phrase book, domain index), and what is decided once before them: the
 * kind of notice, the From domain's authentication (aligned as DMARC aligns it), the
 * brand claim and mentions, the lookalike domains. One Detector signature.
 */
import { type FromAuth, fromAuthentication } from '../auth/alignment.js'
import type { AuthFacts } from '../auth/authenticate.js'
import type { DomainIndex } from '../knowledge/domains.js'
import type { PhraseBook } from '../knowledge/phrases.js'
import type { Registry } from '../knowledge/registry.js'
import { type Addressee, readAddressee } from '../message/addressee.js'
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import {
  type BrandClaim,
  type SenderBrands,
  claimBrand,
  claimMakesNotice,
  isForwarded,
  isFreeMailbox,
  mailsFrom,
  ownDomainUnauthenticated,
  senderBrands,
} from './claim.js'
import { type Lookalikes, findLookalikes, imitatedBrand } from './domain.js'
import { type KindClaim, detectKind } from './kind.js'
import { type RecipientPose, recipientPose } from './recipient.js'
import { type CallbackDocument, callbackDocument } from './callback.js'

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
  /** when the message is scanned (the registry's incidents in force then); absent: none is */
  readonly now?: Date
  readonly kind?: KindClaim
  readonly sender: SenderBrands
  readonly fromDomain?: string
  /** was the From domain authenticated: DMARC, or an aligned DKIM or SPF pass where DMARC gave no result */
  readonly fromAuth: FromAuth
  readonly looks: Lookalikes
  /** the brand the sender speaks as (strength `claim`) */
  readonly claim?: BrandClaim
  /** brands an authenticated sender only names (strength `mention`): not held against it, not vouched for */
  readonly mentions: readonly BrandClaim[]
  /** a shop notice: its words say so, or it speaks for a brand, or imitates one's domain, or forges one's own */
  readonly isNotice: boolean
  /** a notice's greeting names and the personal data it carries (read only for notices) */
  readonly addressee?: Addressee
  /**
   * The recipients' addresses, lower case: the envelope's (RCPT TO) when the relay gave them,
   * else the To and Cc headers' (an offline scan, the CLI)
   */
  readonly recipients: readonly string[]
  /** the sender poses as the recipients' own mail provider (recipient.ts): its display name names their domain */
  readonly recipientPose?: RecipientPose
  /** a callback-invoice lure: only a document and a "support" number (callback.ts) */
  readonly callbackDocument?: CallbackDocument
}

/** A detector family: the hits it finds in one message. Pure. */
export type Detector = (c: Context) => Hit[]

/** The kind, the authentication of From, the claim and the lookalikes, decided once for every detector. */
export function contextOf(
  facts: MessageFacts,
  auth: AuthFacts,
  knowledge: Knowledge,
  envelopeFrom?: string,
  now?: Date,
  envelopeRecipients?: readonly string[],
): Context {
  const { phrases: book, domains } = knowledge
  const kind = detectKind(facts, book)
  const sender = senderBrands(facts, domains, !!kind, book.sender_role_words)
  const fromDomain = facts.from?.domain
  const fromAuth = fromAuthentication(auth, fromDomain)
  const forwarded = isForwarded(facts.subject, book)
  const looks = findLookalikes(fromDomain, sender.fromBrand, facts.links, domains)
  const imitated = forwarded ? undefined : imitatedBrand(looks)
  // a mailing list that writes its own address into From (DMARC mitigation) authenticates the list, not the author
  const listFrom = !!facts.listDomain && !!fromDomain && domains.host(facts.listDomain).registrable === domains.host(fromDomain).registrable
  const authenticatedSender = fromAuth.result === 'pass' && !looks.from && !isFreeMailbox(domains, fromDomain) && !listFrom
  const { claim, mentions } = claimBrand({
    sender,
    facts,
    isNotice: !!kind,
    forwarded,
    imitated,
    domains,
    leadChars: book.lead_chars,
    authenticatedSender,
  })
  const recipients = (envelopeRecipients?.length ? envelopeRecipients : facts.recipients.map((m) => m.address)).map((a) => a.toLowerCase())
  const pose = recipientPose({ facts, recipients, accountNotice: kind?.kind === 'account', forwarded }, domains)
  const callback = callbackDocument({ facts, claimed: !!claim }, book, domains)
  // a message imitating a brand's domain speaks for the shop whatever its words; so does mail
  // from a brand's own domain once its authentication is known (a brand domain's mail is a notice:
  // verified when it passed, a spoof when it failed); offline or on a DNS failure, only its words count;
  // and so does a sender posing as the recipients' own mail provider (its maintenance and upgrade notices),
  // and a payment message that is only a document and a support number (a callback-invoice lure)
  const isNotice =
    !!kind ||
    !!pose ||
    !!callback ||
    claimMakesNotice(claim) ||
    imitatedBrand(looks) !== undefined ||
    ownDomainUnauthenticated(claim, fromDomain, fromAuth, domains) ||
    (claim?.via === 'from-domain' && fromAuth.result === 'pass' && mailsFrom(domains, claim.brand, fromDomain))
  const addressee = isNotice ? readAddressee(facts.text) : undefined
  return { facts, auth, knowledge, envelopeFrom, ...(now ? { now } : {}), kind, sender, fromDomain, fromAuth, looks, ...(claim ? { claim } : {}), mentions, isNotice, addressee, recipients, ...(pose ? { recipientPose: pose } : {}), ...(callback ? { callbackDocument: callback } : {}) }
}
