/**
 * The brand a message speaks for (its claim), and whether one of the brand's own domains
 * authenticated it.
 * Pure: no Haraka, no DNS, no clock.
 */
import { type AuthFacts, alignedPassDomain, hasTempError } from '../auth/authenticate.js'
import type { DomainIndex } from '../knowledge/domains.js'
import type { MessageFacts } from '../message/parse.js'
import type { PhraseBook } from '../knowledge/phrases.js'
import { type Brand, type Registry, brandOfDomain, brandsNamedIn } from '../knowledge/registry.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'

/** Where a brand claim was found, strongest first. */
const CLAIM_SOURCES = ['from-domain', 'display-name', 'subject-tag', 'subject', 'body', 'links', 'lookalike'] as const
export type ClaimSource = (typeof CLAIM_SOURCES)[number]

export interface BrandClaim {
  readonly brand: Brand
  readonly via: ClaimSource
}

/**
 * Does the claim alone make the message a shop notice? A sender calling itself the
 * brand (display name), a subject labelled with the brand the way Japanese notices
 * are (【三井住友カード】…), or a domain imitating the brand all speak for the shop.
 */
export const claimMakesNotice = (claim: BrandClaim | undefined): boolean =>
  claim?.via === 'display-name' || claim?.via === 'subject-tag' || claim?.via === 'lookalike'

/** Bracketed labels of a subject: 【…】, ［…］, […], ＜…＞. */
const SUBJECT_TAG = /[【［[＜〔]([^【［[＜〔】］\]＞〕]{1,60})[】］\]＞〕]/g

/** A claim the sender makes in its own name (From domain, display name), not in the text. */
export const isStrongClaim = (claim: BrandClaim): boolean => claim.via === 'from-domain' || claim.via === 'display-name'

/**
 * The brands the sender shows: the one owning the From domain, and those named in the
 * display name (ambiguous names such as Norton only when the wording makes it a notice).
 */
export interface SenderBrands {
  readonly fromBrand?: Brand
  readonly named: readonly Brand[]
}

export function senderBrands(facts: Pick<MessageFacts, 'from'>, registry: Registry, noticeWording = false): SenderBrands {
  return {
    fromBrand: brandOfDomain(registry, facts.from?.domain),
    named: brandsNamedIn(registry, facts.from?.name ?? '', { ambiguous: noticeWording }),
  }
}

/** A message forwarded by a person: the subject starts with Fwd:, FW:, 転送: … */
export function isForwarded(subject: string, book: PhraseBook): boolean {
  const s = subject.normalize('NFKC').toLowerCase().trimStart()
  return book.forwarded_prefixes.some((p) => s.startsWith(p))
}

export interface ClaimInput {
  readonly sender: SenderBrands
  readonly facts: Pick<MessageFacts, 'subject' | 'text' | 'links' | 'from'>
  readonly isNotice: boolean
  readonly forwarded: boolean
  /** the brand the message's domains imitate (findLookalikes) */
  readonly imitated?: Brand
  readonly domains: DomainIndex
  readonly leadChars: number
}

/**
 * Which registered brand the message claims to come from, if any: the owner of the
 * From domain, else the brand of the display name; unless it is a forward, else the
 * brand labelled in the subject, the brand its domains imitate, and, for a notice,
 * the brand of the subject, of the first lines, or of most links.
 */
export function claimBrand(input: ClaimInput): BrandClaim | undefined {
  const { sender, facts, domains } = input
  if (sender.fromBrand) return { brand: sender.fromBrand, via: 'from-domain' }
  if (sender.named[0]) return { brand: sender.named[0], via: 'display-name' }
  if (input.forwarded) return undefined
  const registry = domains.registry
  const named = { ambiguous: input.isNotice }
  for (const m of facts.subject.matchAll(SUBJECT_TAG)) {
    const tagged = brandsNamedIn(registry, m[1] ?? '', named)[0]
    if (tagged) return { brand: tagged, via: 'subject-tag' }
  }
  if (input.imitated) return { brand: input.imitated, via: 'lookalike' }
  if (!input.isNotice) return undefined
  const bySubject = brandsNamedIn(registry, facts.subject, named)[0]
  if (bySubject) return { brand: bySubject, via: 'subject' }
  const byBody = brandsNamedIn(registry, facts.text.slice(0, input.leadChars), named)[0]
  if (byBody) return { brand: byBody, via: 'body' }
  // links claim a brand when most of them go to it (a carrier's link to an app store claims nothing)
  const counts = new Map<Brand, number>()
  let total = 0
  for (const l of facts.links) {
    if (!l.host || domains.inList(l.host, 'neutral_link_domains')) continue
    total++
    const b = domains.brandOf(l.host)
    if (b) counts.set(b, (counts.get(b) ?? 0) + 1)
  }
  const [byLinks, n = 0] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? []
  return byLinks && n * 2 > total ? { brand: byLinks, via: 'links' } : undefined
}

/** Is `domain` (any host) one of the brand's sending domains, by registrable domain? */
const sendsFor = (domains: DomainIndex, brand: Brand, domain: string | undefined): boolean => {
  const reg = domain ? domains.host(domain).registrable : ''
  return reg !== '' && brand.sending_domains.includes(reg) && !domains.registry.lists.free_mail_domains.has(reg)
}

/**
 * Signals about the brand claim: is it authenticated by one of the brand's own
 * domains, and does the display name agree with the address? When the From domain
 * is not the brand's, no DNS answer could align it with the brand: that is known
 * even offline.
 */
function brandHits(
  claim: BrandClaim | undefined,
  sender: SenderBrands,
  fromDomain: string | undefined,
  auth: AuthFacts,
  domains: DomainIndex,
): Hit[] {
  const hits: Hit[] = sender.named
    .filter((named) => named !== sender.fromBrand)
    .map((named) => ({ symbol: 'BRAND_DISPLAY_NAME_MISMATCH', options: [named.id, fromDomain || '-'] }))
  if (!claim) return hits

  const passed = alignedPassDomain(auth)
  const foreign = !sendsFor(domains, claim.brand, fromDomain)
  // a pass for a free-mail domain proves a mailbox there, not the brand, even when the brand sends from it too
  if (passed && claim.brand.sending_domains.includes(passed) && !domains.registry.lists.free_mail_domains.has(passed)) {
    hits.push({ symbol: 'BRAND_AUTHENTICATED', options: [claim.brand.id, passed] })
  } else if (!isStrongClaim(claim)) {
    if (foreign) hits.push({ symbol: 'BRAND_CLAIM_FOREIGN_SENDER', options: [claim.brand.id, `via=${claim.via}`, `from=${fromDomain || '-'}`] })
  } else if (foreign || (auth.source !== 'unavailable' && !hasTempError(auth))) {
    // a DNS failure is not evidence of forgery (RFC 7489 6.6.2): no verdict against the brand's own domain then
    hits.push({
      symbol: 'BRAND_NOT_AUTHENTICATED',
      options: [claim.brand.id, `via=${claim.via}`, foreign ? 'from=foreign' : `dmarc=${auth.dmarc.result}`, `from=${fromDomain || '-'}`],
    })
  }
  return hits
}

/** Can a DNS retry change the verdict? Only when the From domain is the claimed brand's own. */
export const claimAwaitsDns = (claim: BrandClaim | undefined, fromDomain: string | undefined, auth: AuthFacts, domains: DomainIndex): boolean =>
  !!claim && sendsFor(domains, claim.brand, fromDomain) && hasTempError(auth) && auth.dmarc.result !== 'pass'

export const brandDetector: Detector = (c) => brandHits(c.claim, c.sender, c.fromDomain, c.auth, c.knowledge.domains)
