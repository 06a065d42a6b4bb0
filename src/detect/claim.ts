/**
 * The brand a message speaks for (its claim), the brands it only names (its mentions),
 * and whether one of the claimed brand's mail domains authenticated it.
 * Pure: no Haraka, no DNS, no clock.
 *
 * A claim is the sender presenting itself as the brand: the From domain (the brand's own,
 * or one imitating it), the display name, a subject tag that speaks as the brand. A sender
 * whose own From domain authenticated it (aligned pass), that imitates no brand and is no
 * free-mail mailbox, naming a brand in its subject words, its text or its links (the
 * payment methods it takes, its carrier, the marketplace it sells on, the platform that
 * bills for it), or as the marketplace a shop is on ("〇〇 楽天市場店"), mentions that brand:
 * its notice is its own, not the brand's. docs/signals.md, "Claims and mentions".
 */
import type { FromAuth } from '../auth/alignment.js'
import type { DomainIndex } from '../knowledge/domains.js'
import type { PhraseBook } from '../knowledge/phrases.js'
import { brandsLedBy } from '../knowledge/families.js'
import { type Brand, type Registry, type Role, brandsBySenderName, brandsNamedIn, mailDomainsOf, normaliseName } from '../knowledge/registry.js'
import { firstHost } from '../message/find.js'
import { withoutRoleWords } from '../message/text.js'
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'
import { examples } from './options.js'

/** Where a brand claim was found, strongest first. */
const CLAIM_SOURCES = ['from-domain', 'display-name', 'subject-tag', 'subject', 'body', 'links', 'lookalike'] as const
export type ClaimSource = (typeof CLAIM_SOURCES)[number]

export interface BrandClaim {
  readonly brand: Brand
  readonly via: ClaimSource
  /** `claim`: the sender speaks as the brand; `mention`: an authenticated sender names it in passing */
  readonly strength: 'claim' | 'mention'
}

/** The claim (if any) and the mentions of one message. */
export interface Claims {
  readonly claim?: BrandClaim
  readonly mentions: readonly BrandClaim[]
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
 * The brands the sender shows: the one owning the From domain (a sending domain of the
 * registry, or a host under the brand's own top-level domain), and those named in the
 * display name (ambiguous names such as Norton only when the wording makes it a notice;
 * a sender name such as AAA only as the whole display name, beside `roleWords` alone: "AAA
 * Member Support"; a word writing a brand's name with look-alike characters, Аmazon or PayPa1,
 * names it too).
 */
export interface SenderBrands {
  readonly fromBrand?: Brand
  readonly named: readonly Brand[]
}

/**
 * Is the host a mailbox at a free-mail provider? Mailboxes live at the provider's
 * registrable domain (someone@yahoo.co.jp); a host under it (mail.shopping.yahoo.co.jp)
 * is the provider's own, as a brand.
 */
export const isFreeMailbox = (domains: DomainIndex, host: string | undefined): boolean => {
  if (!host) return false
  const info = domains.host(host)
  return info.registrable !== '' && info.host === info.registrable && domains.registry.lists.free_mail_domains.has(info.registrable)
}

/** The registered brand whose own domain the From domain is (not a free-mail mailbox). */
export function ownerOf(domains: DomainIndex, host: string | undefined): Brand | undefined {
  if (!host || isFreeMailbox(domains, host)) return undefined
  const reg = domains.host(host).registrable
  return (reg ? domains.registry.bySendingDomain.get(reg) : undefined) ?? domains.tldBrand(host)
}

/** Does the brand's mail come from this host: its own or an issuer's sending domain, or its own TLD? */
export function mailsFrom(domains: DomainIndex, brand: Brand, host: string | undefined): boolean {
  if (!host || isFreeMailbox(domains, host)) return false
  const reg = domains.host(host).registrable
  return (reg !== '' && mailDomainsOf(domains.registry, brand).includes(reg)) || domains.tldBrand(host) === brand
}

export function senderBrands(
  facts: Pick<MessageFacts, 'from'>,
  domains: DomainIndex,
  noticeWording = false,
  roleWords: ReadonlySet<string> = new Set(),
): SenderBrands {
  const name = facts.from?.name ?? ''
  const named = brandsNamedIn(domains.registry, name, { ambiguous: noticeWording })
  for (const brand of brandsBySenderName(domains.registry, name, roleWords)) if (!named.includes(brand)) named.push(brand)
  for (const word of name.normalize('NFKC').split(/[^\p{L}\p{N}]+/u)) {
    const brand = domains.confusableName(word)
    if (brand && !named.includes(brand)) named.push(brand)
  }
  if (!named.length) {
    const family = familyNamed(domains, name, facts.from?.domain, roleWords)
    if (family) named.push(family)
  }
  return { fromBrand: ownerOf(domains, facts.from?.domain), named }
}

/**
 * The brand a display name cut short to a family's leading name speaks for (三井住友, 三菱UFJ:
 * brandsLedBy): the family's brand whose mail domain the From domain is (genuine group mail is
 * its own), else the family's first. A name that is a brand's name whole was read already.
 */
function familyNamed(domains: DomainIndex, displayName: string, fromDomain: string | undefined, roleWords: ReadonlySet<string>): Brand | undefined {
  // a brand's name cut short is short: a long display name is a sentence, not a cut (and is not read twice)
  if (displayName.length > 80) return undefined
  const name = withoutRoleWords(displayName, roleWords)
  // a desk's or a generic word alone ("Support", "Card") is no brand's name cut short
  if (!name || roleWords.has(name) || domains.generic.has(name)) return undefined
  const family = brandsLedBy(domains.registry, name)
  return family.find((b) => mailsFrom(domains, b, fromDomain)) ?? family[0]
}

/** A message forwarded by a person: the subject starts with Fwd:, FW:, 転送: … */
export function isForwarded(subject: string, book: PhraseBook): boolean {
  const s = subject.normalize('NFKC').toLowerCase().trimStart()
  return book.forwarded_prefixes.some((p) => s.startsWith(p))
}

/** After a marketplace's name, the word that makes it a shop's name on it: 楽天市場店, Amazon Store. */
const SHOP_SUFFIX = /^ ?[^ ]{0,4}?(?:店|ストア|store\b|shop\b)/u

/**
 * A shop's name on a marketplace: a name of the marketplace brand with the shop's own name
 * before it and 店, ストア, store or shop after it ("〇〇 楽天市場店", "Acme Amazon Store").
 * The marketplace's name alone ("楽天市場") is the marketplace's.
 */
export function isMarketplaceShop(brand: Brand, text: string): boolean {
  if (!brand.roles.includes('marketplace')) return false
  const t = normaliseName(text)
  const names = [...brand.names, ...brand.ambiguous_names].map((n) => normaliseName(n)).sort((a, b) => b.length - a.length)
  for (const name of names) {
    for (let at = t.indexOf(name); at >= 0; at = t.indexOf(name, at + 1)) {
      if (/[\p{L}\p{N}]/u.test(t.slice(0, at)) && SHOP_SUFFIX.test(t.slice(at + name.length))) return true
    }
  }
  return false
}

/** The roles of brands that genuine mail of others names in passing: the payment method, the carrier, the marketplace, the platform. */
const PASSING_ROLES: ReadonlySet<Role> = new Set(['payment', 'carrier', 'marketplace', 'platform'])

/** Is the brand one that other senders' notices name in passing (docs/registry.md, roles)? */
export const namedInPassing = (brand: Brand): boolean => brand.roles.some((r) => PASSING_ROLES.has(r))

/**
 * Card and payment brands listed together ("Visa, Mastercard, JCB, American Express"): a
 * text naming two or more of them lists the ways to pay, it speaks as none of them.
 */
function listedOptions(registry: Registry, text: string, opts: { ambiguous: boolean }): ReadonlySet<Brand> {
  const options = brandsNamedIn(registry, text, opts).filter((b) => b.roles.includes('card') || b.roles.includes('payment'))
  return new Set(options.length >= 2 ? options : [])
}

/**
 * Brands whose domain a link shows as its text while it goes to another site
 * (`amazon.co.jp` over a link to elsewhere): the sender dresses its link as the brand's.
 */
function disguisedAs(links: MessageFacts['links'], domains: DomainIndex): ReadonlySet<Brand> {
  const out = new Set<Brand>()
  for (const l of links) {
    const shown = l.text ? firstHost(l.text)?.toLowerCase() : undefined
    const brand = shown ? domains.brandOf(shown) : undefined
    if (brand && l.host && domains.brandOf(l.host) !== brand) out.add(brand)
  }
  return out
}

/** A platform's own address under another name: the merchant it sends for ("Acme Landscaping" at intuit.com). */
const sendsForMerchant = (fromBrand: Brand, sender: SenderBrands, fromName: string): boolean =>
  fromBrand.roles.includes('platform') && !sender.named.includes(fromBrand) && /[\p{L}\p{N}]/u.test(fromName)

export interface ClaimInput {
  readonly sender: SenderBrands
  readonly facts: Pick<MessageFacts, 'subject' | 'text' | 'links' | 'from'>
  readonly isNotice: boolean
  readonly forwarded: boolean
  /** the brand the message's domains imitate (findLookalikes) */
  readonly imitated?: Brand
  readonly domains: DomainIndex
  readonly leadChars: number
  /**
   * The sender's own From domain authenticated it (aligned pass), it imitates no brand and
   * is no free-mail mailbox: what it names in passing, it mentions. False offline.
   */
  readonly authenticatedSender: boolean
}

/**
 * Which registered brand the message claims to come from, if any, and which it only
 * mentions. In order: the brand of the From domain (or the product of the display name
 * that the From domain issues: "PayPal Extras Mastercard" from its issuer's domain), else
 * the brands of the display name; unless it is a forward, the brand labelled in the
 * subject, the brand its domains imitate, and, for a notice, the brand of the subject, of
 * the first lines, or of most links. For an authenticated sender the text's brands, and a
 * marketplace named as the shop's own place, are mentions; the first claim wins.
 */
export function claimBrand(input: ClaimInput): Claims {
  const { sender, facts, domains } = input
  const mentions: BrandClaim[] = []
  const claimed = (brand: Brand, via: ClaimSource): Claims => ({ claim: { brand, via, strength: 'claim' }, mentions })
  const mention = (brand: Brand, via: ClaimSource): void => {
    if (!mentions.some((m) => m.brand === brand)) mentions.push({ brand, via, strength: 'mention' })
  }
  const fromDomain = facts.from?.domain
  const fromName = facts.from?.name ?? ''

  // a product the From domain sends for (a co-branded card from its issuer) is what the display name claims
  const product = sender.named.find((b) => b !== sender.fromBrand && mailsFrom(domains, b, fromDomain))
  if (product) return claimed(product, 'display-name')
  if (sender.fromBrand) {
    // a platform sending for a merchant, under the merchant's name: the platform is not speaking
    // (docs/registry.md, platform role); it cannot vouch for the merchant either
    if (!sendsForMerchant(sender.fromBrand, sender, fromName)) return claimed(sender.fromBrand, 'from-domain')
    mention(sender.fromBrand, 'from-domain')
  }
  for (const named of sender.named) {
    if (input.authenticatedSender && isMarketplaceShop(named, fromName)) mention(named, 'display-name')
    else return claimed(named, 'display-name')
  }
  if (input.forwarded) return { mentions }
  const registry: Registry = domains.registry
  const ambiguous = { ambiguous: input.isNotice }
  for (const m of facts.subject.matchAll(SUBJECT_TAG)) {
    const label = m[1] ?? ''
    for (const tagged of brandsNamedIn(registry, label, ambiguous)) {
      if (input.authenticatedSender && isMarketplaceShop(tagged, label)) mention(tagged, 'subject-tag')
      else return claimed(tagged, 'subject-tag')
    }
  }
  // beyond this point, the brand is named in the text: an authenticated sender mentions the
  // brands that genuine mail names in passing (what it is paid with, shipped by, sold on, billed through)
  const listed = listedOptions(registry, `${facts.subject}\n${facts.text.slice(0, input.leadChars)}`, ambiguous)
  const disguised = disguisedAs(facts.links, domains)
  const weak = (brand: Brand, via: ClaimSource): Claims | undefined => {
    if (!input.authenticatedSender || disguised.has(brand) || !(namedInPassing(brand) || listed.has(brand))) return claimed(brand, via)
    mention(brand, via)
    return undefined
  }
  if (input.imitated) {
    const found = weak(input.imitated, 'lookalike')
    if (found) return found
  }
  if (!input.isNotice) return { mentions }
  const bySubject = brandsNamedIn(registry, facts.subject, ambiguous)[0]
  const bySubjectClaim = bySubject && weak(bySubject, 'subject')
  if (bySubjectClaim) return bySubjectClaim
  const byBody = brandsNamedIn(registry, facts.text.slice(0, input.leadChars), ambiguous)[0]
  const byBodyClaim = byBody && weak(byBody, 'body')
  if (byBodyClaim) return byBodyClaim
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
  const byLinksClaim = byLinks && n * 2 > total ? weak(byLinks, 'links') : undefined
  return byLinksClaim ?? { mentions }
}

/**
 * Is the brand's own mail domain (not an imitation, not a product's issuer named in a
 * display name only) authenticated? `verified` needs this.
 */
const authenticatedFor = (domains: DomainIndex, brand: Brand, fromDomain: string | undefined, fromAuth: FromAuth): boolean =>
  fromAuth.result === 'pass' && mailsFrom(domains, brand, fromDomain)

/**
 * Does a claim of the brand's own domain fail authentication? From at one of the brand's
 * mail domains, and the results known (not offline, not a DNS failure): DMARC failed, or no
 * identity aligned with the From domain passed. Such mail is a spoof whatever it says.
 */
export const ownDomainUnauthenticated = (claim: BrandClaim | undefined, fromDomain: string | undefined, fromAuth: FromAuth, domains: DomainIndex): boolean =>
  !!claim && isStrongClaim(claim) && mailsFrom(domains, claim.brand, fromDomain) && (fromAuth.result === 'fail' || fromAuth.result === 'none')

/** Does `issuer` issue a product that carries `named`'s name (Synchrony and PayPal, by the PayPal Extras Mastercard)? */
const issuesCoBrandOf = (registry: Registry, issuer: Brand, named: Brand): boolean =>
  [...registry.brands.values()].some((p) => p.issued_by.includes(issuer.id) && p.co_brands.includes(named.id))

/** Display-name brands that disagree with the From domain: not its brand, nor a product it issues, nor its issuer or co-brand. */
function mismatchedNames(sender: SenderBrands, claims: Claims, fromDomain: string | undefined, domains: DomainIndex): Brand[] {
  const from = sender.fromBrand
  return sender.named.filter(
    (named) =>
      named !== from &&
      !mailsFrom(domains, named, fromDomain) &&
      !(from && (from.issued_by.includes(named.id) || from.co_brands.includes(named.id) || issuesCoBrandOf(domains.registry, from, named))) &&
      !(claims.claim && claims.claim.brand.co_brands.includes(named.id)) &&
      !claims.mentions.some((m) => m.brand === named),
  )
}

/**
 * Signals about the brand claim: is it authenticated by one of the brand's own mail
 * domains, and does the display name agree with the address? When the From domain is
 * not the brand's, no DNS answer could align it with the brand: that is known even offline.
 */
function brandHits(c: {
  claims: Claims
  sender: SenderBrands
  fromDomain: string | undefined
  fromAuth: FromAuth
  dmarcResult: string
  domains: DomainIndex
}): Hit[] {
  const { claims, sender, fromDomain, fromAuth, domains } = c
  const claim = claims.claim
  const hits: Hit[] = mismatchedNames(sender, claims, fromDomain, domains).map((named) => ({
    symbol: 'BRAND_DISPLAY_NAME_MISMATCH',
    options: [named.id, fromDomain || '-'],
  }))
  if (claims.mentions.length) {
    hits.push({ symbol: 'BRAND_MENTIONED', options: examples(claims.mentions.map((m) => `${m.brand.id}:${m.via}`)) })
  }
  if (!claim) return hits

  const own = mailsFrom(domains, claim.brand, fromDomain)
  if (authenticatedFor(domains, claim.brand, fromDomain, fromAuth)) {
    hits.push({ symbol: 'BRAND_AUTHENTICATED', options: [claim.brand.id, fromAuth.domain ?? '-', `by=${fromAuth.method ?? 'dmarc'}`] })
  } else if (!isStrongClaim(claim)) {
    if (!own) hits.push({ symbol: 'BRAND_CLAIM_FOREIGN_SENDER', options: [claim.brand.id, `via=${claim.via}`, `from=${fromDomain || '-'}`] })
  } else if (!own || fromAuth.result === 'fail' || fromAuth.result === 'none') {
    // a DNS failure is not evidence of forgery (RFC 7489 6.6.2): no verdict against the brand's own domain then
    hits.push({
      symbol: 'BRAND_NOT_AUTHENTICATED',
      options: [claim.brand.id, `via=${claim.via}`, own ? `dmarc=${c.dmarcResult}` : 'from=foreign', `from=${fromDomain || '-'}`],
    })
  }
  return hits
}

/** Can a DNS retry change the verdict? Only when the From domain is the claimed brand's own. */
export const claimAwaitsDns = (claim: BrandClaim | undefined, fromDomain: string | undefined, fromAuth: FromAuth, domains: DomainIndex): boolean =>
  !!claim && mailsFrom(domains, claim.brand, fromDomain) && fromAuth.result === 'temperror'

export const brandDetector: Detector = (c) =>
  brandHits({
    claims: { ...(c.claim ? { claim: c.claim } : {}), mentions: c.mentions },
    sender: c.sender,
    fromDomain: c.fromDomain,
    fromAuth: c.fromAuth,
    dmarcResult: c.auth.dmarc.result,
    domains: c.knowledge.domains,
  })
