/**
 * The phrase book (shop-notice.phrases.yaml): notice kinds and the words that
 * announce them, requests for card data (and the warnings, negations and conditions
 * that make a sentence none), the details genuine notices carry (order labels, item
 * labels, currencies), the simplified-Chinese glyphs of machine-made lures, the words
 * of callback lures, the attachment types a notice should not carry, the words too
 * generic to stand for a brand inside a domain and the role words of a sender's name. Validated at load, then compiled once
 * per configuration load into normalised phrase lists and matchers.
 */
import { Checker, isRecord } from '../shared/validate.js'
import { normaliseText } from '../message/text.js'

/** Order matters when two kinds weigh the same: the more specific kind comes first. */
export const KINDS = ['gift-card', 'card-usage', 'payment', 'order', 'shipping', 'account'] as const
export type NoticeKind = (typeof KINDS)[number]

type Bilingual = { readonly ja: readonly string[]; readonly en: readonly string[] }

export interface PhraseBook {
  /** per kind, normalised phrases (Japanese and English together), in KINDS order */
  readonly kinds: readonly { readonly kind: NoticeKind; readonly phrases: readonly string[] }[]
  readonly weights: { readonly subject: number; readonly lead: number }
  readonly notice_min: number
  readonly lead_chars: number
  /** lower case, as written */
  readonly forwarded_prefixes: readonly string[]
  readonly card_data: {
    readonly sensitive: readonly string[]
    readonly credentials: readonly string[]
    readonly requests: readonly string[]
    /** warnings and promises: a sentence holding one is never a request */
    readonly reassurances: readonly string[]
    /** negations of a request word: Japanese ones follow it, English ones precede it */
    readonly negations: { readonly after: readonly string[]; readonly before: readonly string[] }
    /** how many characters (normalised) may stand between a negation and its request word */
    readonly negation_gap: number
    /** Japanese markers that end a condition (normalised); English words that begin one (lower case, as written) */
    readonly conditions: { readonly ends: readonly string[]; readonly begins: readonly string[] }
  }
  readonly details: {
    /** one global regex: any order label (NFKC, any case) and what may stand between it and the number */
    readonly order_label: RegExp
    readonly item_labels: readonly string[]
    /** an amount of money (NFKC text): a currency before or after a number */
    readonly amount: RegExp
  }
  readonly simplified_chinese: ReadonlySet<string>
  /** normalised phrases that ask the reader to telephone (callback lures) */
  readonly callback: readonly string[]
  /** normalised ordinary ways of giving a number: a callback lure only with one of `callback_reasons` near it */
  readonly callback_contact: readonly string[]
  /** normalised reasons a lure gives to ring (cancel, dispute, did not authorise) */
  readonly callback_reasons: readonly string[]
  /** normalised labels a callback-invoice lure puts before its number (support, helpdesk, hotline …) */
  readonly callback_labels: readonly string[]
  readonly attachments: {
    /** lower case, without the dot */
    readonly risky_extensions: ReadonlySet<string>
    /** lower-case MIME type prefixes */
    readonly risky_types: readonly string[]
    readonly document_types: readonly string[]
  }
  /** lower-case words too generic to stand for a brand inside another domain */
  readonly generic_words: ReadonlySet<string>
  /** lower-case words a sender writes beside its name for a department (support, member, team): sender names */
  readonly sender_role_words: ReadonlySet<string>
}

const TOP_KEYS = new Set([
  'kinds',
  'weights',
  'notice_min',
  'lead_chars',
  'forwarded_prefixes',
  'card_data',
  'details',
  'simplified_chinese',
  'callback',
  'callback_contact',
  'callback_reasons',
  'callback_labels',
  'attachments',
  'generic_words',
  'sender_role_words',
])

const LANGUAGES = new Set(['ja', 'en'])

export interface PhraseResult {
  readonly value: PhraseBook
  readonly warnings: readonly string[]
}

export function parsePhrases(raw: unknown, file: string): PhraseResult {
  const c: Checker = new Checker(file)
  const fail = (key: string, problem: string): never => c.fail(key, problem)
  if (!isRecord(raw) || Object.keys(raw).length === 0) return fail('kinds', 'missing: the file is empty or could not be read')
  c.unknownKeys(raw, TOP_KEYS, (key) => key)

  const list = (v: unknown, at: string): string[] => {
    if (!Array.isArray(v) || v.length === 0) return fail(at, 'expected a non-empty list of phrases')
    return v.map((item, i) => {
      const s = typeof item === 'number' ? String(item) : item
      if (typeof s !== 'string' || !normaliseText(s)) return fail(`${at}[${i}]`, 'expected a phrase (a non-empty string)')
      return s
    })
  }
  const bilingual = (v: unknown, at: string): Bilingual => {
    if (!isRecord(v)) return fail(at, 'expected a mapping with `ja` and `en` lists')
    c.unknownKeys(v, LANGUAGES, (key) => `${at}.${key}`, 'unknown language')
    return { ja: list(v.ja, `${at}.ja`), en: list(v.en, `${at}.en`) }
  }
  // a language may have none of these (callback_contact.ja: the Japanese callback words already ask to ring)
  const bilingualOrEmpty = (v: unknown, at: string): Bilingual => {
    if (!isRecord(v)) return fail(at, 'expected a mapping with `ja` and `en` lists')
    c.unknownKeys(v, LANGUAGES, (key) => `${at}.${key}`, 'unknown language')
    const either = (w: unknown, key: string): string[] => (Array.isArray(w) && w.length === 0 ? [] : list(w, key))
    return { ja: either(v.ja, `${at}.ja`), en: either(v.en, `${at}.en`) }
  }
  const compiled = (b: Bilingual): string[] => [...new Set([...b.ja, ...b.en].map(normaliseText))]
  const positive = (v: unknown, at: string, integer: boolean): number => c.number(v, at, { positive: true, integer })

  const rawKinds = raw.kinds
  if (!isRecord(rawKinds)) return fail('kinds', 'expected a mapping of notice kind to phrases')
  for (const key of Object.keys(rawKinds)) {
    if (!(KINDS as readonly string[]).includes(key)) fail(`kinds.${key}`, `unknown notice kind (known: ${KINDS.join(', ')})`)
  }
  const kinds = KINDS.map((kind) => ({ kind, phrases: compiled(bilingual(rawKinds[kind], `kinds.${kind}`)) }))

  if (!isRecord(raw.weights)) return fail('weights', 'expected a mapping with `subject` and `lead`')
  const weights = { subject: positive(raw.weights.subject, 'weights.subject', false), lead: positive(raw.weights.lead, 'weights.lead', false) }

  const prefixes = list(raw.forwarded_prefixes, 'forwarded_prefixes').map((p) => p.normalize('NFKC').toLowerCase().trim())

  if (!isRecord(raw.card_data)) {
    return fail('card_data', 'expected a mapping with `sensitive`, `credentials`, `requests`, `reassurances`, `negations`, `negation_gap` and `conditions`')
  }
  const negations = bilingual(raw.card_data.negations, 'card_data.negations')
  const conditions = bilingual(raw.card_data.conditions, 'card_data.conditions')
  const cardData = {
    sensitive: compiled(bilingual(raw.card_data.sensitive, 'card_data.sensitive')),
    credentials: compiled(bilingual(raw.card_data.credentials, 'card_data.credentials')),
    requests: compiled(bilingual(raw.card_data.requests, 'card_data.requests')),
    reassurances: compiled(bilingual(raw.card_data.reassurances, 'card_data.reassurances')),
    negations: { after: [...new Set(negations.ja.map(normaliseText))], before: [...new Set(negations.en.map(normaliseText))] },
    negation_gap: positive(raw.card_data.negation_gap, 'card_data.negation_gap', true),
    conditions: {
      ends: [...new Set(conditions.ja.map(normaliseText))],
      begins: [...new Set(conditions.en.map((c) => c.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ')))],
    },
  }
  if (!isRecord(raw.details)) return fail('details', 'expected a mapping with `order_labels` and `item_labels`')
  const labels = bilingual(raw.details.order_labels, 'details.order_labels')
  const escape = (l: string): string =>
    l
      .normalize('NFKC')
      .toLowerCase()
      .trim()
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\s+/g, '\\s?')
  const alternatives = [...new Set([...labels.ja, ...labels.en].map(escape))].sort((a, b) => b.length - a.length)
  const rawCurrency = raw.details.currency
  if (!isRecord(rawCurrency)) return fail('details.currency', 'expected a mapping with `before` and `after` lists')
  const currency = (at: 'before' | 'after'): string =>
    [...new Set(list(rawCurrency[at], `details.currency.${at}`).map(escape))]
      .sort((a, b) => b.length - a.length)
      .join('|')
  const details = {
    order_label: new RegExp(`(?:${alternatives.join('|')})\\s?(?:は|:|：|#|＃|no\\.?)?\\s?`, 'gi'),
    item_labels: compiled(bilingual(raw.details.item_labels, 'details.item_labels')),
    // each number is taken from its last digit before the currency: `\d[\d,]*…円` tested the same, in quadratic time
    amount: new RegExp(`(?:${currency('before')})\\s?\\d|\\d,*(?:\\.\\d{1,2})?\\s?(?:${currency('after')})`, 'i'),
  }
  if (typeof raw.simplified_chinese !== 'string') return fail('simplified_chinese', 'expected a string of characters')
  const glyphs = new Set([...raw.simplified_chinese.replace(/\s+/g, '')])
  for (const g of glyphs) {
    if (!/\p{Script=Han}/u.test(g)) fail('simplified_chinese', `${JSON.stringify(g)} is not a Han character`)
  }

  const rawAttachments = raw.attachments
  if (!isRecord(rawAttachments)) return fail('attachments', 'expected a mapping with `risky_extensions`, `risky_types` and `document_types`')
  const extensions = list(rawAttachments.risky_extensions, 'attachments.risky_extensions').map((e, i) => {
    const ext = e.normalize('NFKC').toLowerCase().trim().replace(/^\./, '')
    return /^[\p{L}\p{N}_-]{1,16}$/u.test(ext) ? ext : fail(`attachments.risky_extensions[${i}]`, `${JSON.stringify(e)} is not a file extension`)
  })
  const types = (at: 'risky_types' | 'document_types'): string[] =>
    list(rawAttachments[at], `attachments.${at}`).map((t, i) => {
      const type = t.toLowerCase().trim()
      return /^[a-z]+\/[a-z0-9.+-]*$/.test(type) ? type : fail(`attachments.${at}[${i}]`, `${JSON.stringify(t)} is not a MIME type or type prefix (text/html, application/)`)
    })
  const attachments = { risky_extensions: new Set(extensions), risky_types: types('risky_types'), document_types: types('document_types') }
  const genericWords = list(raw.generic_words, 'generic_words').map((w, i) => {
    const word = w.toLowerCase().trim()
    return /^[a-z0-9-]+$/.test(word) ? word : fail(`generic_words[${i}]`, `${JSON.stringify(w)} is not a lower-case ASCII word`)
  })
  const roleWords = list(raw.sender_role_words, 'sender_role_words').map((w, i) => {
    const word = w.normalize('NFKC').toLowerCase().trim()
    return /^[\p{L}\p{N}]+$/u.test(word) ? word : fail(`sender_role_words[${i}]`, `${JSON.stringify(w)} is not one word (letters and digits)`)
  })

  return {
    value: {
      kinds,
      weights,
      notice_min: positive(raw.notice_min, 'notice_min', false),
      lead_chars: positive(raw.lead_chars, 'lead_chars', true),
      forwarded_prefixes: prefixes,
      card_data: cardData,
      details,
      simplified_chinese: glyphs,
      callback: compiled(bilingual(raw.callback, 'callback')),
      callback_contact: compiled(bilingualOrEmpty(raw.callback_contact, 'callback_contact')),
      callback_reasons: compiled(bilingual(raw.callback_reasons, 'callback_reasons')),
      callback_labels: compiled(bilingualOrEmpty(raw.callback_labels, 'callback_labels')),
      attachments,
      generic_words: new Set(genericWords),
      sender_role_words: new Set(roleWords),
    },
    warnings: c.warnings,
  }
}
