/**
 * Detectors: pure functions from message facts to named hits. No Haraka, no DNS,
 * no clock in here. Each hit carries options that explain it.
 */
import { type AuthFacts, TEMP_RESULTS, alignedPassDomain, hasTempError } from './auth.js'
import type { DomainIndex, Lookalike } from './domains.js'
import type { Link, MessageFacts } from './message.js'
import type { NoticeKind, PhraseBook } from './phrases.js'
import { type Brand, type Registry, brandOfDomain, brandsNamedIn } from './registry.js'
import type { Hit } from './symbols.js'
import { addressDomainIn, firstHost, orderIdIn } from './linear.js'
import { countDisguises, glyphsIn, hasKana, normaliseText } from './text.js'

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

/** Signals from the authentication results alone. */
export function authHits(auth: AuthFacts): Hit[] {
  if (auth.source === 'unavailable') return [{ symbol: 'AUTH_UNAVAILABLE', options: [] }]
  const hits: Hit[] = []
  const temp = [
    TEMP_RESULTS.has(auth.spf.result) && 'spf',
    auth.dkim.some((d) => TEMP_RESULTS.has(d.result)) && 'dkim',
    TEMP_RESULTS.has(auth.dmarc.result) && 'dmarc',
  ].filter((x): x is string => typeof x === 'string')
  if (temp.length) hits.push({ symbol: 'AUTH_DNS_TEMPFAIL', options: temp })

  const from = auth.dmarc.fromDomain ?? '-'
  switch (auth.dmarc.result) {
    case 'pass':
      hits.push({ symbol: 'AUTH_DMARC_PASS', options: [from] })
      break
    case 'fail':
      hits.push({
        symbol: auth.dmarc.policy === 'quarantine' || auth.dmarc.policy === 'reject' ? 'AUTH_DMARC_FAIL_ENFORCED' : 'AUTH_DMARC_FAIL',
        options: [from, `p=${auth.dmarc.policy ?? 'none'}`],
      })
      break
    case 'none':
      if (auth.dmarc.fromDomain) hits.push({ symbol: 'AUTH_DMARC_MISSING', options: [from] })
      break
  }
  if (auth.spf.result === 'fail') hits.push({ symbol: 'AUTH_SPF_FAIL', options: [auth.spf.domain ?? '-'] })
  if (auth.spf.result === 'softfail') hits.push({ symbol: 'AUTH_SPF_SOFTFAIL', options: [auth.spf.domain ?? '-'] })
  if (!temp.length && auth.spf.result !== 'pass' && !auth.dkim.some((d) => d.result === 'pass')) {
    hits.push({ symbol: 'AUTH_NONE', options: [] })
  }
  return hits
}

/** Where a brand claim was found, strongest first. */
export const CLAIM_SOURCES = ['from-domain', 'display-name', 'subject-tag', 'subject', 'body', 'links', 'lookalike'] as const
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
export function brandHits(
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

const first = <T>(xs: readonly T[], n = 3): T[] => xs.slice(0, n)
const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)]

/** The domains of a message that imitate a registered brand: its From domain, and link hosts. */
export interface Lookalikes {
  readonly from?: Lookalike
  readonly links: readonly (readonly [host: string, look: Lookalike])[]
}

export function findLookalikes(fromDomain: string | undefined, fromBrand: Brand | undefined, links: readonly Link[], domains: DomainIndex): Lookalikes {
  const linkLooks = unique(links.map((l) => l.host).filter(Boolean)).flatMap((h) => {
    const look = domains.lookalike(h)
    // a brand's own mail may link to its tenant on a hosting platform (usps.force.com): not an imitation
    return look && !(look.brand === fromBrand && domains.inList(h, 'hosting_platforms')) ? [[h, look] as const] : []
  })
  const from = fromDomain ? domains.lookalike(fromDomain) : undefined
  return { ...(from ? { from } : {}), links: linkLooks }
}

/** The brand the message's domains imitate, if any (the From domain first). */
export const imitatedBrand = (looks: Lookalikes): Brand | undefined => (looks.from ?? looks.links[0]?.[1])?.brand

/** Lookalike and mixed-script domains, in the From address and in links. */
export function domainHits(fromDomain: string | undefined, looks: Lookalikes, links: readonly Link[], domains: DomainIndex): Hit[] {
  const hits: Hit[] = []
  if (fromDomain && looks.from) hits.push({ symbol: 'DOMAIN_LOOKALIKE_FROM', options: [fromDomain, looks.from.brand.id, looks.from.how] })
  if (looks.links.length) {
    hits.push({ symbol: 'DOMAIN_LOOKALIKE_LINK', options: first(looks.links).map(([h, l]) => `${h}:${l.brand.id}:${l.how}`) })
  }
  const mixed = unique([fromDomain ?? '', ...links.map((l) => l.host)].filter((h) => h && domains.mixedScriptLabels(h).length))
  if (mixed.length) hits.push({ symbol: 'DOMAIN_IDN_MIXED_SCRIPT', options: first(mixed) })
  return hits
}


export interface LinkInput {
  readonly links: readonly Link[]
  readonly claim?: BrandClaim
  readonly fromDomain?: string
  /** the domain of the mailing list that carried the message (List-Id), whose footer links are its own */
  readonly listDomain?: string
  readonly isNotice: boolean
}

/** Links: text that lies about the target, http and IP links, shorteners, links off the claimed brand. */
export function linkHits(input: LinkInput, domains: DomainIndex): Hit[] {
  const hits: Hit[] = []
  const web = input.links.filter((l) => (l.scheme === 'http' || l.scheme === 'https') && l.host)
  const listReg = input.listDomain ? domains.host(input.listDomain).registrable : ''
  const own = (l: Link): boolean => listReg !== '' && domains.host(l.host).registrable === listReg
  const counted = web.filter((l) => !own(l))

  const lies = counted.flatMap((l) => {
    // host-like text: what a reader takes for "the address this link goes to"
    const shown = l.text ? firstHost(l.text)?.toLowerCase() : undefined
    if (!shown) return []
    const shownReg = domains.host(shown).registrable
    const realReg = domains.host(l.host).registrable || l.host
    return shownReg && shownReg !== realReg ? [`${shown}>${l.host}`] : []
  })
  if (lies.length) hits.push({ symbol: 'LINK_TEXT_MISMATCH', options: first(unique(lies)) })

  const ips = unique(counted.filter((l) => domains.host(l.host).isIp).map((l) => l.host))
  if (ips.length) hits.push({ symbol: 'LINK_IP', options: first(ips) })
  if (!input.isNotice) return hits

  const http = unique(counted.filter((l) => l.scheme === 'http' && !domains.inList(l.host, 'neutral_link_domains')).map((l) => l.host))
  if (http.length) hits.push({ symbol: 'LINK_HTTP', options: first(http) })
  const short = unique(counted.filter((l) => domains.inList(l.host, 'url_shorteners')).map((l) => l.host))
  if (short.length) hits.push({ symbol: 'LINK_SHORTENER', options: first(short) })

  const claim = input.claim
  if (!claim) return hits
  if (claim.brand.promises.links === 'https-only' && http.length) {
    hits.push({ symbol: 'BRAND_PROMISE_HTTPS', options: [claim.brand.id, ...first(http, 2)] })
  }
  const fromReg = input.fromDomain ? domains.host(input.fromDomain).registrable : ''
  const brandLinks = new Set(claim.brand.link_domains)
  let onBrand = 0
  const off = unique(
    counted
      .filter((l) => {
        const reg = domains.host(l.host).registrable || l.host
        if (brandLinks.has(reg)) {
          onBrand++
          return false
        }
        if (domains.inList(l.host, 'neutral_link_domains') || domains.inList(l.host, 'redirectors') || domains.inList(l.host, 'url_shorteners')) {
          return false
        }
        // for a claim made only in the text, the sender's own site is its own business
        return isStrongClaim(claim) || reg !== fromReg
      })
      .map((l) => domains.host(l.host).registrable || l.host),
  )
  if (off.length) hits.push({ symbol: 'LINK_OFF_BRAND', options: [claim.brand.id, ...first(off)] })
  else if (onBrand > 0) hits.push({ symbol: 'LINK_ALL_ON_BRAND', options: [claim.brand.id] })
  if (off.length && onBrand === 0) hits.push({ symbol: 'LINK_NO_BRAND_LINK', options: [claim.brand.id] })
  return hits
}

export interface SenderInput {
  readonly facts: Pick<MessageFacts, 'from' | 'replyTo'>
  readonly claim?: BrandClaim
  readonly envelopeFrom?: string
  readonly isNotice: boolean
}

/** The sender: an address in the display name, Reply-To and envelope off the brand, free mail. */
export function senderHits(input: SenderInput, domains: DomainIndex): Hit[] {
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
    const off = replyDomains.filter((d) => !claim.brand.link_domains.includes(domains.host(d).registrable))
    if (off.length) hits.push({ symbol: 'SENDER_REPLY_TO_OFF_BRAND', options: [claim.brand.id, ...first(off)] })
  }
  const freeReply = replyDomains.filter((d) => domains.inList(d, 'free_mail_domains') && domains.host(d).registrable !== fromReg)
  if (freeReply.length) hits.push({ symbol: 'SENDER_REPLY_TO_FREEMAIL', options: first(freeReply) })
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

const RISKY_EXT = new Set(
  (
    'zip rar 7z gz tgz bz2 xz tar lzh lha cab arj ace z iso img vhd vhdx dmg udf ' +
    'exe scr com bat cmd pif cpl dll msi msp lnk hta js jse vbs vbe wsf wsh ps1 psm1 jar apk app ' +
    'htm html shtml xhtml mht mhtml svg ' +
    'docm dotm xlsm xltm xlam pptm potm ppam sldm one'
  ).split(' '),
)
const RISKY_TYPES = /^(application\/(x-)?(zip|rar|7z|gzip|tar|x-msdownload|x-msdos-program|x-executable|x-dosexec|java-archive|vnd\.android\.package-archive|x-iso9660-image|x-apple-diskimage|hta|javascript)|text\/html|image\/svg)/i
const DOCUMENT_TYPES = /^(application\/|text\/(plain|rtf|csv))/i

const extOf = (name: string): string => {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase().trim()
}

/** Attachments of a notice: risky kinds weigh most, documents less, inline pictures nothing. */
export function attachmentHits(facts: Pick<MessageFacts, 'attachments'>, claim: BrandClaim | undefined, isNotice: boolean): Hit[] {
  if (!isNotice) return []
  const hits: Hit[] = []
  const files = facts.attachments.filter((a) => !a.inline)
  // a double extension (invoice.pdf.exe) is judged by its last one, as the system opening it does
  const risky = files.filter((a) => RISKY_EXT.has(extOf(a.filename.normalize('NFKC'))) || RISKY_TYPES.test(a.mimeType))
  if (risky.length) hits.push({ symbol: 'ATTACHMENT_RISKY', options: first(risky.map((a) => a.filename || a.mimeType)) })
  const documents = files.filter((a) => !risky.includes(a) && DOCUMENT_TYPES.test(a.mimeType))
  if (documents.length) hits.push({ symbol: 'ATTACHMENT_ON_NOTICE', options: first(documents.map((a) => a.filename || a.mimeType)) })
  if (claim?.brand.promises.attachments === 'never' && files.length) {
    hits.push({ symbol: 'BRAND_PROMISE_ATTACHMENTS', options: [claim.brand.id, ...first(files.map((a) => a.filename || a.mimeType), 2)] })
  }
  return hits
}

/** Sentences: split at 。！？ and line ends, and at ". " in English. */
const splitSentences = (text: string): string[] => text.split(/[。！？!?\n]+|\.(?:\s|$)/u)

/**
 * Is there an amount of money: ¥1,000 / 1,000円 / $12.34 / USD 12 / €5 / £3? Only
 * whether there is one matters, so each number is taken from its last digit before
 * the currency: `\d[\d,]*…円` tested the same, in quadratic time.
 */
const AMOUNT = /[¥￥$€£]\s?\d|\d,*(?:\.\d{1,2})?\s?(?:円|ドル|usd|jpy|eur|gbp)|(?:usd|jpy|eur|gbp)\s?\d/i
/** A number shown with # (#123-4567890-1234567), the way order numbers appear in subjects. */
const HASH_NUMBER = /#\s?(\d{2,}(?:-\d{2,})+)/g

/**
 * Telephone numbers as notices write them: North American (+1 (828) 280-7472, 844 584-4936),
 * Japanese (0120-123-456, 03-1234-5678) and other international ones (+44 20 7946 0958).
 * Separators are required, so that order and invoice numbers (1820953715) are not taken
 * for one, nor is a date or an id (2025-04-15-0001). Matched at the start of a run of
 * digits and separators (PHONE_RUN), so that no pattern is tried at every character.
 */
const PHONE_RUN = /[+(]?\d[\d ().-]*/g
const PHONE = /^(?:(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}|0\d{1,4}-\d{1,4}-\d{3,4}|\+\d{1,3}[ .-]\(?\d{1,4}\)?(?:[ .-]\d{2,4}){2,3})/

/** The first telephone number with a callback phrase of the book just before (or right after) it. */
export function callbackNumber(text: string, book: PhraseBook): { number: string; phrase: string } | undefined {
  const nfkc = text.normalize('NFKC')
  let seen = 0
  for (const run of nfkc.matchAll(PHONE_RUN)) {
    // a number in brackets, （0120-123-456）: the bracket is not the area code's
    const [digits, at] = run[0].startsWith('(') && !PHONE.test(run[0]) ? [run[0].slice(1), run.index + 1] : [run[0], run.index]
    const m = PHONE.exec(digits)
    if (!m || /\d/.test(digits[m[0].length] ?? '')) continue
    if (++seen > 20) break
    const around = normaliseText(nfkc.slice(Math.max(0, at - 160), at + m[0].length + 60))
    const phrase = book.callback.find((p) => around.includes(p))
    if (phrase) return { number: m[0], phrase }
  }
  return undefined
}

export interface ContentInput {
  readonly facts: Pick<MessageFacts, 'subject' | 'text' | 'from'>
  readonly kind?: NoticeKind
  readonly claim?: BrandClaim
  readonly book: PhraseBook
}

/** What the words say: requests for card data, callback numbers, missing order details, foreign glyphs, hidden characters. */
export function contentHits(input: ContentInput): Hit[] {
  const { facts, book } = input
  const hits: Hit[] = []
  const body = facts.text.slice(0, 20_000)

  const disguised = countDisguises(`${facts.subject}\n${facts.from?.name ?? ''}`)
  if (disguised >= 2) hits.push({ symbol: 'CONTENT_OBFUSCATED', options: [`chars=${disguised}`] })

  const japanese = `${facts.subject}\n${body.slice(0, 5000)}`
  if (hasKana(japanese)) {
    const glyphs = glyphsIn(japanese, book.simplified_chinese)
    if (glyphs.length >= 2) hits.push({ symbol: 'CONTENT_SIMPLIFIED_CHINESE', options: [first(glyphs, 6).join('')] })
  }
  if (!input.kind) return hits

  const text = `${facts.subject}\n${body}`
  // normalisation works character by character and drops the sentence breaks, so a phrase in a
  // sentence's normal form is in the whole text's too: the sentences are read one by one only
  // when the whole text has both a card (or secret) phrase and a request
  const whole = normaliseText(text)
  const inWhole = (phrases: readonly string[]): boolean => phrases.some((p) => whole.includes(p))
  const cardData = (inWhole(book.card_data.sensitive) || inWhole(book.card_data.credentials)) && inWhole(book.card_data.requests)
  const cards = new Set<string>()
  const secrets = new Set<string>()
  for (const sentence of cardData ? splitSentences(text) : []) {
    const n = normaliseText(sentence)
    if (!n || n.length > 400) continue
    const card = book.card_data.sensitive.find((s) => n.includes(s))
    const secret = card ? undefined : book.card_data.credentials.find((s) => n.includes(s))
    if (!card && !secret) continue
    if (!book.card_data.requests.some((r) => n.includes(r))) continue
    if (book.card_data.reassurances.some((r) => n.includes(r))) continue
    if (card) cards.add(card)
    else if (secret) secrets.add(secret)
  }
  const callback = callbackNumber(`${facts.subject}\n${body}`, book)
  if (callback) hits.push({ symbol: 'CONTENT_CALLBACK_NUMBER', options: [callback.number, callback.phrase] })
  if (cards.size) hits.push({ symbol: 'CONTENT_CARD_DATA_REQUEST', options: first([...cards]) })
  if (secrets.size) hits.push({ symbol: 'CONTENT_CREDENTIAL_REQUEST', options: first([...secrets]) })

  if (input.kind === 'payment' || input.kind === 'order' || input.kind === 'card-usage') {
    const all = text.normalize('NFKC')
    const orderNumbers = orderNumbersIn(all.toLowerCase(), book)
    const hasAmount = AMOUNT.test(all)
    const hasItem = book.details.item_labels.some((l) => whole.includes(l))
    if (!orderNumbers.length && !hasAmount && !hasItem) {
      hits.push({ symbol: 'CONTENT_DETAILS_MISSING', options: [input.kind, 'no order number, amount or item'] })
    }
    const pattern = input.claim?.brand.promises.order_number
    if (pattern && orderNumbers.length && !orderNumbers.some((n) => pattern.test(n))) {
      hits.push({ symbol: 'BRAND_PROMISE_ORDER_NUMBER', options: [input.claim!.brand.id, ...first(orderNumbers, 2)] })
    }
  }
  return hits
}

/** Order numbers shown after an order label (注文番号: …, Order #…), or with # in the subject or text. */
export function orderNumbersIn(lower: string, book: PhraseBook): string[] {
  const found: string[] = []
  const compact = lower.replace(/\s+/g, ' ')
  for (const m of compact.matchAll(book.details.order_label)) {
    const end = m.index + m[0].length
    // the order number the label points at, within the next 48 characters
    const id = orderIdIn(compact, end, 48)
    if (id) found.push(id)
    if (found.length > 10) break
  }
  for (const m of compact.matchAll(HASH_NUMBER)) {
    found.push(m[1]!)
    if (found.length > 20) break
  }
  return unique(found)
}
