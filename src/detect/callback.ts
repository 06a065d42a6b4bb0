/**
 * The callback-invoice lure ("TOAD"): a payment or order message that is nothing but an attached
 * document and a "support" telephone number ("Invoice and details enclosed. Phone Support: +1 …"),
 * with no link to follow, from a sender that names no brand and whose name and words have nothing
 * to do with its own domain (a hijacked mailbox of some unrelated organisation). The number is the
 * attack: the victim rings it about a charge they never made. Pure: no Haraka, no DNS, no clock.
 *
 * A small business sends "Please find attached invoice 1043. Acme Plumbing, 555-123-4567": it gives
 * its number as a business does (no support label), and its name, the From domain's, is in the mail.
 */
import type { DomainIndex } from '../knowledge/domains.js'
import type { PhraseBook } from '../knowledge/phrases.js'
import type { MessageFacts } from '../message/parse.js'
import { normaliseText } from '../message/text.js'
import type { Hit } from '../verdict/symbols.js'
import { isRisky } from './attachment.js'
import { isFreeMailbox } from './claim.js'
import { PHONE, PHONE_RUN, orderNumbersIn } from './content.js'
import type { Detector } from './context.js'

/** The most a message's own text may hold and still be "nothing but the document and the number". */
export const CALLBACK_DOCUMENT_MAX_CHARS = 300
/** How far before the number its label may begin (characters of the text as written). */
const LABEL_REACH = 40

export interface CallbackDocument {
  /** the telephone number, as written (NFKC) */
  readonly number: string
  /** the label before it (normalised) */
  readonly label: string
  /** the documents' file names */
  readonly files: readonly string[]
}

export interface CallbackInput {
  readonly facts: Pick<MessageFacts, 'subject' | 'text' | 'from' | 'links' | 'attachments'>
  /** a registered brand is claimed: the brand signals judge it */
  readonly claimed: boolean
}

/** Lower-case letters and digits only: `Acme IT Services` → `acmeitservices`. */
const squash = (s: string): string => s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')

/**
 * Does the message say who sends it? The From domain's name (its registrable domain without the
 * suffix, or one of its hyphenated parts), or for a free-mail mailbox the letters of its local part,
 * of at least 4 characters, written in the display name or the text. Undefined when the sender's
 * name is too short to tell.
 */
function namesItsSender(facts: CallbackInput['facts'], domains: DomainIndex): boolean | undefined {
  const from = facts.from
  if (!from?.domain) return undefined
  // a domain's name in parts (whitfield-tax: whitfield, tax), each of 4 characters or more
  const own = (
    isFreeMailbox(domains, from.domain)
      ? [squash(from.address.slice(0, Math.max(0, from.address.lastIndexOf('@'))))]
      : domains.host(from.domain).label.split('-').map(squash)
  ).filter((part) => part.length >= 4)
  if (!own.length) return undefined
  const said = squash(`${from.name} ${facts.text}`)
  return own.some((part) => said.includes(part))
}

/** The first telephone number with a callback label of the book in the few characters before it. */
function labelledNumber(text: string, book: PhraseBook): { number: string; label: string } | undefined {
  const nfkc = text.normalize('NFKC')
  let seen = 0
  for (const run of nfkc.matchAll(PHONE_RUN)) {
    const [digits, at] = run[0].startsWith('(') && !PHONE.test(run[0]) ? [run[0].slice(1), run.index + 1] : [run[0], run.index]
    const m = PHONE.exec(digits)
    if (!m || /\d/.test(digits[m[0].length] ?? '')) continue
    if (++seen > 5) break
    const before = normaliseText(nfkc.slice(Math.max(0, at - LABEL_REACH), at))
    const label = book.callback_labels.find((l) => before.includes(l))
    if (label) return { number: m[0], label }
  }
  return undefined
}

/** Do the subject, the text or the documents' names speak of a payment or an order (one phrase of those kinds)? */
function speaksOfPayment(facts: CallbackInput['facts'], files: readonly string[], book: PhraseBook): boolean {
  const said = normaliseText(`${facts.subject}\n${facts.text}\n${files.join('\n')}`)
  return book.kinds.some(({ kind, phrases }) => (kind === 'payment' || kind === 'order') && phrases.some((p) => said.includes(p)))
}

/**
 * The callback-invoice lure, or undefined: no registered brand claimed; a document attached (of the
 * phrase book's document types, not a risky file: ATTACHMENT_RISKY judges those); no web link; a
 * text of at most CALLBACK_DOCUMENT_MAX_CHARS characters; a telephone number labelled as support
 * (the book's `callback_labels`); payment or order words in the subject, text or file names, but no
 * amount, order number or item in the subject and text (the details are "enclosed"); and neither
 * the display name nor the text names the From domain's organisation.
 */
export function callbackDocument(input: CallbackInput, book: PhraseBook, domains: DomainIndex): CallbackDocument | undefined {
  const { facts } = input
  if (input.claimed) return undefined
  const kinds = book.attachments
  const files = facts.attachments
    .filter((a) => !a.inline && !isRisky(a, kinds) && kinds.document_types.some((t) => a.mimeType.toLowerCase().startsWith(t)))
    .map((a) => a.filename || a.mimeType)
  if (!files.length) return undefined
  if (facts.links.some((l) => (l.scheme === 'http' || l.scheme === 'https') && l.host)) return undefined
  const text = facts.text.replace(/\s+/g, ' ').trim()
  if (!text || text.length > CALLBACK_DOCUMENT_MAX_CHARS) return undefined
  const found = labelledNumber(text, book)
  if (!found) return undefined
  if (!speaksOfPayment(facts, files, book)) return undefined
  // "invoice and details enclosed": the lure's text carries none of them, a real statement does
  const nfkc = `${facts.subject}\n${text}`.normalize('NFKC')
  if (book.details.amount.test(nfkc) || orderNumbersIn(nfkc, book).length || book.details.item_labels.some((l) => normaliseText(nfkc).includes(l))) return undefined
  if (namesItsSender(facts, domains) !== false) return undefined
  return { ...found, files }
}

/** CONTENT_CALLBACK_DOCUMENT, from what the context decided (the lure makes the message a notice). */
export const callbackDocumentDetector: Detector = (c) =>
  c.callbackDocument
    ? [{ symbol: 'CONTENT_CALLBACK_DOCUMENT', options: [c.callbackDocument.number, c.callbackDocument.label] } satisfies Hit]
    : []
