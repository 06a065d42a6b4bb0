/**
 * The phrase book (shop-notice.phrases.yaml): notice kinds and the words that
 * announce them, requests for card data, the details genuine notices carry, the
 * simplified-Chinese glyphs of machine-made lures and the words of callback lures. Validated at load, then compiled
 * once per configuration load into normalised phrase lists.
 */
import { Checker, isRecord } from '../config/validate.js'
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
    readonly reassurances: readonly string[]
  }
  readonly details: {
    /** one global regex: any order label (NFKC, lower case) and what may stand between it and the number */
    readonly order_label: RegExp
    readonly item_labels: readonly string[]
  }
  readonly simplified_chinese: ReadonlySet<string>
  /** normalised phrases that ask the reader to telephone (callback lures) */
  readonly callback: readonly string[]
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

  if (!isRecord(raw.card_data)) return fail('card_data', 'expected a mapping with `sensitive`, `credentials`, `requests` and `reassurances`')
  const cardData = {
    sensitive: compiled(bilingual(raw.card_data.sensitive, 'card_data.sensitive')),
    credentials: compiled(bilingual(raw.card_data.credentials, 'card_data.credentials')),
    requests: compiled(bilingual(raw.card_data.requests, 'card_data.requests')),
    reassurances: compiled(bilingual(raw.card_data.reassurances, 'card_data.reassurances')),
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
  const details = {
    order_label: new RegExp(`(?:${alternatives.join('|')})\\s?(?:は|:|：|#|＃|no\\.?)?\\s?`, 'g'),
    item_labels: compiled(bilingual(raw.details.item_labels, 'details.item_labels')),
  }
  if (typeof raw.simplified_chinese !== 'string') return fail('simplified_chinese', 'expected a string of characters')
  const glyphs = new Set([...raw.simplified_chinese.replace(/\s+/g, '')])
  for (const g of glyphs) {
    if (!/\p{Script=Han}/u.test(g)) fail('simplified_chinese', `${JSON.stringify(g)} is not a Han character`)
  }

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
    },
    warnings: c.warnings,
  }
}
