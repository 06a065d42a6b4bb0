/**
 * Bounds the DKIM work one message can cost before it reaches mailauth.
 *
 * mailauth verifies every DKIM-Signature field and keeps one body hash for each distinct
 * (body canonicalization, hash, l=) combination; every one of those reads the whole body, even
 * past its l=. So 900 signatures with 900 different l= over a 20 MB body cost 900 passes over
 * 20 MB (and 900 key lookups): a sender could hold the event loop for tens of seconds.
 *
 * Here the header is read once and only some signatures are kept for mailauth: at most
 * `maxSignatures`, those whose d= aligns with the From domain first (the only ones DMARC can use),
 * then the others in header order; and a signature that needs a body hash of its own is kept only
 * while the bytes hashed stay within `maxAuthBytes`, except the first one, which is always checked
 * (SMTP's own size limit bounds it). Leaving a signature out can only lose a pass, never make one:
 * a sender gains nothing from it.
 */
import { Readable } from 'node:stream'

import { registrableDomain } from '../shared/domain.js'

export interface DkimLimits {
  /** DKIM-Signature fields verified per message, at most */
  readonly maxSignatures: number
  /** body bytes hashed per message, summed over the distinct body hashes the kept signatures need */
  readonly maxAuthBytes: number
}

export interface SkippedSignature {
  readonly domain: string
  readonly selector: string
  /** d= has the From domain's organisational domain */
  readonly aligned: boolean
}

export interface BoundedMessage {
  /** the message with the skipped DKIM-Signature fields taken out (the same Buffer when none is) */
  readonly message: Buffer
  readonly signatures: number
  readonly skipped: readonly SkippedSignature[]
  /** body bytes the kept signatures' distinct body hashes read, as mailauth hashes them */
  readonly hashedBytes: number
}

interface Field {
  readonly start: number
  readonly end: number
  readonly name: string
  readonly value: string
}

const CRLF = Buffer.from('\r\n')

/** The header fields (name lower case, value unfolded) with their byte ranges, and where the body starts. */
export function headerFields(raw: Buffer): { fields: Field[]; bodyStart: number } {
  const fields: Field[] = []
  let headerEnd = raw.indexOf('\r\n\r\n')
  const bodyStart = headerEnd < 0 ? raw.length : headerEnd + 4
  headerEnd = headerEnd < 0 ? raw.length : headerEnd + 2
  let pos = 0
  let current: { start: number; text: string[] } | undefined
  const close = (end: number): void => {
    if (!current) return
    const text = current.text.join('')
    const colon = text.indexOf(':')
    if (colon > 0) fields.push({ start: current.start, end, name: text.slice(0, colon).trim().toLowerCase(), value: text.slice(colon + 1) })
    current = undefined
  }
  while (pos < headerEnd) {
    let eol = raw.indexOf(CRLF, pos)
    if (eol < 0 || eol >= headerEnd) eol = headerEnd
    const line = raw.toString('latin1', pos, eol)
    if ((line.startsWith(' ') || line.startsWith('\t')) && current) current.text.push(line)
    else {
      close(pos)
      current = { start: pos, text: [line] }
    }
    pos = Math.min(eol + 2, headerEnd)
  }
  close(headerEnd)
  return { fields, bodyStart }
}

/** The tags of a DKIM-Signature value (RFC 6376 3.2), white space taken out of each value. */
export function dkimTags(value: string): Map<string, string> {
  const tags = new Map<string, string>()
  for (const part of value.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (name && !tags.has(name)) tags.set(name, part.slice(eq + 1).replace(/[ \t\r\n]+/g, ''))
  }
  return tags
}

/** The domain of the (first) From address: the part after the last `@` of the angle-addr, or of the value. */
export function fromDomainOf(value: string): string | undefined {
  const noComments = value.replace(/\([^()]*\)/g, ' ')
  const angle = /<([^<>]*)>[^<>]*$/.exec(noComments)
  const addr = (angle ? angle[1]! : noComments).trim()
  const at = addr.lastIndexOf('@')
  if (at < 0) return undefined
  const domain = addr
    .slice(at + 1)
    .replace(/[\s>;,].*$/s, '')
    .toLowerCase()
  return /^[a-z0-9.-]+$/.test(domain) ? domain : undefined
}

/** How mailauth names a body hash: one per canonicalization, hash algorithm and l= */
function bodyHashKey(tags: Map<string, string>): string {
  const canon = (tags.get('c') ?? '').split('/')[1]?.toLowerCase() || 'simple'
  const hash = (tags.get('a') ?? '').split('-').pop()?.toLowerCase() ?? ''
  const l = tags.get('l') ?? ''
  return `${canon}:${hash}:${/^\d+$/.test(l) ? String(Number(l)) : ''}`
}

/**
 * Keeps at most `limits.maxSignatures` DKIM-Signature fields (aligned with From first, then in
 * header order) within `limits.maxAuthBytes` of body hashing, and takes the others out of the copy
 * of `raw` (CRLF line ends) that goes to mailauth.
 */
export function boundDkimWork(raw: Buffer, limits: DkimLimits): BoundedMessage {
  const { fields, bodyStart } = headerFields(raw)
  const bodyBytes = raw.length - bodyStart
  const signatures = fields.filter((f) => f.name === 'dkim-signature')
  const from = fields.find((f) => f.name === 'from')
  const fromDomain = from ? fromDomainOf(from.value) : undefined
  const fromOrg = fromDomain ? registrableDomain(fromDomain) : undefined

  const rows = signatures.map((field, index) => {
    const tags = dkimTags(field.value)
    const domain = (tags.get('d') ?? '').toLowerCase()
    return { field, index, tags, domain, selector: tags.get('s') ?? '', aligned: !!fromOrg && !!domain && registrableDomain(domain) === fromOrg }
  })
  const preferred = [...rows.filter((r) => r.aligned), ...rows.filter((r) => !r.aligned)]
  const keys = new Set<string>()
  let hashedBytes = 0
  let kept = 0
  const skipped = new Set<(typeof rows)[number]>()
  for (const row of preferred) {
    const key = bodyHashKey(row.tags)
    const cost = keys.has(key) ? 0 : bodyBytes
    if (kept < limits.maxSignatures && (kept === 0 || hashedBytes + cost <= limits.maxAuthBytes)) {
      kept++
      keys.add(key)
      hashedBytes += cost
    } else skipped.add(row)
  }
  if (!skipped.size) return { message: raw, signatures: rows.length, skipped: [], hashedBytes }

  const parts: Buffer[] = []
  let from_ = 0
  for (const row of rows) {
    if (!skipped.has(row)) continue
    parts.push(raw.subarray(from_, row.field.start))
    from_ = row.field.end
  }
  parts.push(raw.subarray(from_))
  return {
    message: Buffer.concat(parts),
    signatures: rows.length,
    skipped: rows.filter((r) => skipped.has(r)).map((r) => ({ domain: r.domain, selector: r.selector, aligned: r.aligned })),
    hashedBytes,
  }
}

/**
 * The Authentication-Results fragment for the signatures left unchecked (RFC 8601 2.7.1 `policy`:
 * signed, but not acceptable to this ADMD as it is): `dkim=policy (3 signatures not checked, 1 of
 * them aligned with From: over the per-message limits, ...)`. One fragment, however many.
 */
export function skippedFragment(skipped: readonly SkippedSignature[], limits: DkimLimits): string {
  const aligned = skipped.filter((s) => s.aligned).length
  const n = skipped.length
  return (
    `dkim=policy (${n} signature${n === 1 ? '' : 's'} not checked${aligned ? `, ${aligned} of them aligned with From` : ''}: ` +
    `over the per-message limits max_dkim_signatures=${limits.maxSignatures} max_auth_bytes=${limits.maxAuthBytes})`
  )
}

/**
 * The message as a stream that hands out one chunk per turn of the event loop. Given a Buffer,
 * mailauth writes it to its parser chunk after chunk, but each next write waits only for the
 * parser's 'drain', which comes in a promise continuation: the whole message is read without
 * the event loop turning once, and no other connection is answered meanwhile. Piped from this
 * stream, each chunk waits for a setImmediate.
 */
export function yieldingStream(message: Buffer, chunkSize = 64 * 1024): Readable {
  let pos = 0
  return new Readable({
    highWaterMark: chunkSize,
    read(): void {
      if (pos >= message.length) {
        this.push(null)
        return
      }
      const chunk = message.subarray(pos, pos + chunkSize)
      pos += chunk.length
      setImmediate(() => this.push(chunk))
    },
  })
}
