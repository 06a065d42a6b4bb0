/**
 * Attachments of a notice: risky kinds weigh most, documents less, inline pictures nothing.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'
import { examples } from './options.js'
import { type BrandClaim } from './claim.js'

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
function attachmentHits(facts: Pick<MessageFacts, 'attachments'>, claim: BrandClaim | undefined, isNotice: boolean): Hit[] {
  if (!isNotice) return []
  const hits: Hit[] = []
  const files = facts.attachments.filter((a) => !a.inline)
  // a double extension (invoice.pdf.exe) is judged by its last one, as the system opening it does
  const risky = files.filter((a) => RISKY_EXT.has(extOf(a.filename.normalize('NFKC'))) || RISKY_TYPES.test(a.mimeType))
  if (risky.length) hits.push({ symbol: 'ATTACHMENT_RISKY', options: examples(risky.map((a) => a.filename || a.mimeType)) })
  const documents = files.filter((a) => !risky.includes(a) && DOCUMENT_TYPES.test(a.mimeType))
  if (documents.length) hits.push({ symbol: 'ATTACHMENT_ON_NOTICE', options: examples(documents.map((a) => a.filename || a.mimeType)) })
  if (claim?.brand.promises.attachments === 'never' && files.length) {
    hits.push({ symbol: 'BRAND_PROMISE_ATTACHMENTS', options: [claim.brand.id, ...examples(files.map((a) => a.filename || a.mimeType), 2)] })
  }
  return hits
}

export const attachmentDetector: Detector = (c) => attachmentHits(c.facts, c.claim, c.isNotice)
