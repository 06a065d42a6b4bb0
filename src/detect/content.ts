/**
 * What the words say: requests for card data, callback numbers, missing order details,
 * foreign glyphs, hidden characters.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { MessageFacts } from '../message/parse.js'
import type { NoticeKind, PhraseBook } from '../knowledge/phrases.js'
import type { Hit } from '../verdict/symbols.js'
import { orderIdIn } from '../message/find.js'
import { countDisguises, glyphsIn, hasKana, normaliseText } from '../message/text.js'
import type { Detector } from './context.js'
import { examples, unique } from './options.js'
import { type BrandClaim } from './claim.js'

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
function contentHits(input: ContentInput): Hit[] {
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
  if (cards.size) hits.push({ symbol: 'CONTENT_CARD_DATA_REQUEST', options: examples([...cards]) })
  if (secrets.size) hits.push({ symbol: 'CONTENT_CREDENTIAL_REQUEST', options: examples([...secrets]) })

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
      hits.push({ symbol: 'BRAND_PROMISE_ORDER_NUMBER', options: [input.claim!.brand.id, ...examples(orderNumbers, 2)] })
    }
  }
  return hits
}

/** Order numbers shown after an order label (注文番号: …, Order #…), or with # in the subject or text. */
function orderNumbersIn(lower: string, book: PhraseBook): string[] {
  const found: string[] = []
  const compact = lower.replace(/\s+/g, ' ')
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

export const contentDetector: Detector = (c) => contentHits({ facts: c.facts, kind: c.kind?.kind, claim: c.claim, book: c.knowledge.phrases })
