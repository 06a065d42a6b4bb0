/**
 * What the words say: requests for card data (and such a request from an authenticated
 * sender that links elsewhere), callback numbers, missing order details, foreign glyphs,
 * hidden characters.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { AuthFacts } from '../auth/authenticate.js'
import type { DomainIndex } from '../knowledge/domains.js'
import type { NoticeKind, PhraseBook } from '../knowledge/phrases.js'
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import { orderIdIn } from '../message/find.js'
import { countDisguises, glyphsIn, hasKana, normaliseText } from '../message/text.js'
import type { Detector } from './context.js'
import { examples, unique } from './options.js'
import { type BrandClaim } from './claim.js'

/** Sentences: split at 。！？ and line ends, and at ". " in English. */
const splitSentences = (text: string): string[] => text.split(/[。！？!?\n]+|\.(?:\s|$)/u)

/** Clauses of a sentence: split at commas (the condition of a Japanese sentence may end without one). */
const CLAUSE_BREAK = /[、，,]/u

type CardWords = PhraseBook['card_data']

/**
 * A sentence without its conditions, normalised: an English clause that begins with a
 * condition (`if you forgot your PIN`, up to the comma) is left out, and so is a Japanese
 * clause up to the last marker that ends a condition (`暗証番号をお忘れの場合は`). What is
 * left is what the sentence asks for.
 */
function mainClause(sentence: string, words: CardWords): string {
  let out = ''
  for (const clause of sentence.split(CLAUSE_BREAK)) {
    const lead = clause.normalize('NFKC').toLowerCase().trimStart()
    if (words.conditions.begins.some((c) => lead.startsWith(c) && !/\p{L}/u.test(lead.charAt(c.length)))) continue
    let n = normaliseText(clause)
    for (const end of words.conditions.ends) {
      const at = n.lastIndexOf(end)
      if (at >= 0) n = n.slice(at + end.length)
    }
    out += n
  }
  return out
}

/**
 * Is there a request word in `n` that no negation takes back? Japanese negations follow
 * the request (入力しないで), English ones precede it (should not enter), each at most
 * `negation_gap` characters away.
 */
function asks(n: string, words: CardWords): boolean {
  const gap = words.negation_gap
  // how far to look: the gap and the longest negation
  const reach = gap + Math.max(...words.negations.before.map((x) => x.length), ...words.negations.after.map((x) => x.length))
  for (const r of words.requests) {
    for (let at = n.indexOf(r); at >= 0; at = n.indexOf(r, at + 1)) {
      const before = n.slice(Math.max(0, at - reach), at)
      const after = n.slice(at + r.length, at + r.length + reach)
      const negatedBefore = words.negations.before.some((x) => {
        const i = before.lastIndexOf(x)
        return i >= 0 && before.length - (i + x.length) <= gap
      })
      const negatedAfter = words.negations.after.some((x) => {
        const i = after.indexOf(x)
        return i >= 0 && i <= gap
      })
      if (!negatedBefore && !negatedAfter) return true
    }
  }
  return false
}

/** A number shown with # (#123-4567890-1234567), the way order numbers appear in subjects. */
const HASH_NUMBER = /#\s?(\d{2,}(?:-\d{2,})+)/g

/**
 * Telephone numbers as notices write them: North American (+1 (828) 280-7472, 844 584-4936),
 * Japanese (0120-123-456, 03-1234-5678) and other international ones (+44 20 7946 0958).
 * Separators are required, so that order and invoice numbers (1820953715) are not taken
 * for one, nor is a date or an id (2025-04-15-0001). Matched at the start of a run of
 * digits and separators (PHONE_RUN), so that no pattern is tried at every character.
 */
export const PHONE_RUN = /[+(]?\d[\d ().-]*/g
export const PHONE = /^(?:(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}|0\d{1,4}-\d{1,4}-\d{3,4}|\+\d{1,3}[ .-]\(?\d{1,4}\)?(?:[ .-]\d{2,4}){2,3})/

/**
 * The first telephone number with a callback phrase of the book just before (or right after) it,
 * or with an ordinary contact phrase and a reason to ring (cancel, dispute, did not authorise) near it.
 */
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
    // "contact our billing department at": a lure only when it says why to ring (to cancel, if you did not authorise)
    const contact = book.callback_contact.find((p) => around.includes(p))
    if (contact && book.callback_reasons.some((r) => around.includes(r))) return { number: m[0], phrase: contact }
  }
  return undefined
}

interface ContentInput {
  readonly facts: Pick<MessageFacts, 'subject' | 'text' | 'from' | 'links' | 'listDomain'>
  readonly kind?: NoticeKind
  readonly claim?: BrandClaim
  readonly auth: AuthFacts
  readonly book: PhraseBook
}

/**
 * The registrable domains an authenticated sender answers for: its From domain, its passing
 * DKIM signatures' and its SPF-passing envelope's. Undefined unless the From domain is
 * authenticated: a DMARC pass, or a DKIM or SPF pass for the From's own registrable domain.
 */
function vouchedDomains(input: ContentInput, domains: DomainIndex): Set<string> | undefined {
  const { auth } = input
  const fromReg = input.facts.from?.domain ? domains.host(input.facts.from.domain).registrable : ''
  if (!fromReg) return undefined
  const passed = new Set<string>()
  for (const d of auth.dkim) if (d.result === 'pass' && d.domain) passed.add(domains.host(d.domain).registrable)
  if (auth.spf.result === 'pass' && auth.spf.domain) passed.add(domains.host(auth.spf.domain).registrable)
  if (auth.dmarc.result !== 'pass' && !passed.has(fromReg)) return undefined
  return passed.add(fromReg)
}

/**
 * Where an authenticated sender's request for card data sends the reader: links to domains
 * that neither the sender (vouchedDomains), nor the claimed brand, nor any registered brand
 * answers for, and that are no neutral site, redirector or the mailing list carrying the
 * message. A shop's hijacked account asking its buyers to re-enter their card on the thief's
 * page (the KOSEYA case) shows exactly this.
 */
function cardDataElsewhere(input: ContentInput, domains: DomainIndex): string[] {
  const vouched = vouchedDomains(input, domains)
  if (!vouched) return []
  const listReg = input.facts.listDomain ? domains.host(input.facts.listDomain).registrable : ''
  const brandLinks = new Set(input.claim?.brand.link_domains ?? [])
  const elsewhere = input.facts.links
    .filter((l) => (l.scheme === 'http' || l.scheme === 'https') && l.host)
    .map((l) => domains.host(l.host).registrable || l.host)
    .filter(
      (reg) =>
        !vouched.has(reg) &&
        !brandLinks.has(reg) &&
        reg !== listReg &&
        !domains.brandOf(reg) &&
        !domains.inList(reg, 'neutral_link_domains') &&
        !domains.inList(reg, 'redirectors'),
    )
  return unique(elsewhere)
}

/** What the words say: requests for card data, callback numbers, missing order details, foreign glyphs, hidden characters. */
function contentHits(input: ContentInput, domains: DomainIndex): Hit[] {
  const { facts, book } = input
  const hits: Hit[] = []
  const body = facts.text.slice(0, 20_000)

  const disguised = countDisguises(`${facts.subject}\n${facts.from?.name ?? ''}`)
  if (disguised >= 2) hits.push({ symbol: 'CONTENT_OBFUSCATED', options: [`chars=${disguised}`] })

  const japanese = `${facts.subject}\n${body.slice(0, 5000)}`
  if (hasKana(japanese)) {
    const glyphs = glyphsIn(japanese, book.simplified_chinese)
    if (glyphs.length >= 2) hits.push({ symbol: 'CONTENT_SIMPLIFIED_CHINESE', options: [examples(glyphs, 6).join('')] })
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
  const words = book.card_data
  for (const sentence of cardData ? splitSentences(text) : []) {
    // a curly apostrophe is a straight one (don’t); the normal form drops both
    const plain = sentence.replace(/[‘’]/g, "'")
    const whole = normaliseText(plain)
    if (!whole || whole.length > 400) continue
    // a warning or a promise, anywhere in the sentence, makes it none
    if (words.reassurances.some((r) => whole.includes(r))) continue
    const n = mainClause(plain, words)
    const card = words.sensitive.find((s) => n.includes(s))
    const secret = card ? undefined : words.credentials.find((s) => n.includes(s))
    if (!card && !secret) continue
    if (!asks(n, words)) continue
    if (card) cards.add(card)
    else if (secret) secrets.add(secret)
  }
  const callback = callbackNumber(`${facts.subject}\n${body}`, book)
  if (callback) hits.push({ symbol: 'CONTENT_CALLBACK_NUMBER', options: [callback.number, callback.phrase] })
  if (cards.size) {
    hits.push({ symbol: 'CONTENT_CARD_DATA_REQUEST', options: examples([...cards]) })
    const elsewhere = cardDataElsewhere(input, domains)
    if (elsewhere.length) hits.push({ symbol: 'CONTENT_CARD_DATA_ELSEWHERE', options: [...examples(elsewhere), `from=${facts.from?.domain ?? '-'}`] })
  }
  if (secrets.size) hits.push({ symbol: 'CONTENT_CREDENTIAL_REQUEST', options: examples([...secrets]) })

  if (input.kind === 'payment' || input.kind === 'order' || input.kind === 'card-usage') {
    const all = text.normalize('NFKC')
    // numbers as written: a brand's pattern may tell case (Amazon's digital orders are D01-…)
    const orderNumbers = orderNumbersIn(all, book)
    const hasAmount = book.details.amount.test(all)
    const hasItem = book.details.item_labels.some((l) => whole.includes(l))
    if (!orderNumbers.length && !hasAmount && !hasItem) {
      hits.push({ symbol: 'CONTENT_DETAILS_MISSING', options: [input.kind, 'no order number, amount or item'] })
    }
    const pattern = input.claim?.brand.promises.order_number
    if (pattern && orderNumbers.length && !orderNumbers.some((n) => pattern.test(n))) {
      hits.push({ symbol: 'BRAND_PROMISE_ORDER_NUMBER', options: [input.claim!.brand.id, ...examples(orderNumbers, 2)] })
    }
  }
  return hits
}

/** Order numbers, as written, shown after an order label (注文番号: …, Order #…; any case), or with # in the subject or text. */
export function orderNumbersIn(text: string, book: PhraseBook): string[] {
  const found: string[] = []
  const compact = text.replace(/\s+/g, ' ')
  for (const m of compact.matchAll(book.details.order_label)) {
    const end = m.index + m[0].length
    // something an order number can be: at least 5 characters of which some digits
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

export const contentDetector: Detector = (c) =>
  contentHits({ facts: c.facts, kind: c.kind?.kind, claim: c.claim, auth: c.auth, book: c.knowledge.phrases }, c.knowledge.domains)
