/**
 * Attachments of a notice: risky kinds weigh most, documents less, inline pictures nothing.
 * Which extensions and types are risky, and which are documents, is the phrase book's
 * `attachments` section. Pure: no Haraka, no DNS, no clock.
 */
import type { PhraseBook } from '../knowledge/phrases.js'
import type { Attachment, MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'
import { examples } from './options.js'
import { type BrandClaim } from './claim.js'

/** A name without the dots and white space at its end: Windows drops them, so `invoice.exe.` opens as invoice.exe. */
const withoutTrailing = (name: string): string => {
  let end = name.length
  while (end > 0 && (name[end - 1] === '.' || /\s/u.test(name[end - 1]!))) end--
  return name.slice(0, end)
}

/** Risky by its last extension (once trailing dots and spaces are gone), by such a trailing dot or space, or by its declared type. */
export function isRisky(a: Pick<Attachment, 'filename' | 'mimeType'>, kinds: PhraseBook['attachments']): boolean {
  const name = a.filename.normalize('NFKC')
  const bare = withoutTrailing(name)
  const dot = bare.lastIndexOf('.')
  const ext = dot < 0 ? '' : bare.slice(dot + 1).toLowerCase()
  const type = a.mimeType.toLowerCase()
  return bare !== name || kinds.risky_extensions.has(ext) || kinds.risky_types.some((t) => type.startsWith(t))
}

/** Attachments of a notice: risky kinds weigh most, documents less, inline pictures nothing. */
function attachmentHits(facts: Pick<MessageFacts, 'attachments'>, claim: BrandClaim | undefined, isNotice: boolean, book: PhraseBook): Hit[] {
  if (!isNotice) return []
  const hits: Hit[] = []
  const kinds = book.attachments
  const files = facts.attachments.filter((a) => !a.inline)
  // a double extension (invoice.pdf.exe) is judged by its last one, as the system opening it does
  const risky = files.filter((a) => isRisky(a, kinds))
  if (risky.length) hits.push({ symbol: 'ATTACHMENT_RISKY', options: examples(risky.map((a) => a.filename || a.mimeType)) })
  const documents = files.filter((a) => !risky.includes(a) && kinds.document_types.some((t) => a.mimeType.toLowerCase().startsWith(t)))
  if (documents.length) hits.push({ symbol: 'ATTACHMENT_ON_NOTICE', options: examples(documents.map((a) => a.filename || a.mimeType)) })
  if (claim?.brand.promises.attachments === 'never' && files.length) {
    hits.push({ symbol: 'BRAND_PROMISE_ATTACHMENTS', options: [claim.brand.id, ...examples(files.map((a) => a.filename || a.mimeType), 2)] })
  }
  return hits
}

export const attachmentDetector: Detector = (c) => attachmentHits(c.facts, c.claim, c.isNotice, c.knowledge.phrases)
