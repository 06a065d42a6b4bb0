/**
 * Removing single header fields from a Haraka transaction in place. Haraka's own
 * `remove_header(name)` removes every field of a name; putting the others back with
 * `add_leading_header` moves them to the top and re-encodes them. Here only the fields
 * picked are taken out, and every other field stays where and as the sender wrote it.
 *
 * Haraka's Header (haraka-email-message) keeps three views of one header block:
 * `header_list` (the lines it writes out, one string per field, folds and `\n` kept),
 * and `headers` / `headers_decoded` (per lower-case name, raw and decoded values in
 * one order). All three are changed together, in place (the message stream holds the
 * list itself). The caller then lets Haraka know the block changed (`remove_header`
 * or `add_leading_header` do).
 *
 * Also here: reading the message out of the transaction, removing the headers a sender
 * forged in our name, and taking the Authentication-Results fragments other plugins
 * gave core (docs/development.md says why they are taken rather than left to core).
 */
import { AR_HEADER, authResultsInHeader, isOurAuthResults } from '../auth/results.js'
import { headerBlock } from '../shared/domain.js'
import { VERDICT_HEADER, isForgedLine } from '../verdict/headers.js'
import type { Connection, Transaction } from './haraka.js'

/** The part of Haraka's Header object this uses. */
export interface HarakaHeader {
  header_list?: string[]
  headers?: Record<string, string[]>
  headers_decoded?: Record<string, string[]>
  /** Haraka's own decoding of a raw value (RFC 2047, RFC 2231, charsets) */
  decode_header?(value: string): string
}

/** A field line as Haraka's parser reads it: `name:value`, the name without white space. */
const FIELD = /^([^\s:]*):\s*([\s\S]*)$/

/**
 * Removes the fields named `name` (any case) whose raw value `drop` picks, keeping the
 * others in place. Returns how many were removed, or undefined when the header object
 * is not laid out as expected (the caller then falls back to Haraka's API).
 */
function removeFields(header: HarakaHeader, name: string, drop: (value: string) => boolean): number | undefined {
  const key = name.toLowerCase()
  const list = header.header_list
  const values = header.headers?.[key] ?? []
  const decoded = header.headers_decoded?.[key] ?? []
  if (!list || !header.headers || !header.headers_decoded || values.length !== decoded.length) return undefined
  const gone = values.map((v) => drop(v))
  const count = gone.filter(Boolean).length
  if (!count) return 0
  // the lines of this name in header_list are the values in their order
  const lines: number[] = []
  list.forEach((line, i) => {
    const m = FIELD.exec(line)
    if (m?.[1]?.toLowerCase() === key) lines.push(i)
  })
  if (lines.length !== values.length) return undefined
  const dropLines = new Set(lines.filter((_, j) => gone[j]))
  replaceAll(list, list.filter((_, i) => !dropLines.has(i)))
  replaceAll(values, values.filter((_, j) => !gone[j]))
  replaceAll(decoded, decoded.filter((_, j) => !gone[j]))
  return count
}

/**
 * Rewrites the first field named `name` in place: `rewrite` gets the text after the
 * colon and its blanks, to the end of the field (folds as `\n`, the final `\n` kept),
 * and returns the new text. The field's name as written, its colon and blanks, and every
 * other field stay. Returns false when there is no such field or the header object is not
 * laid out as expected.
 */
export function rewriteFirstField(header: HarakaHeader, name: string, rewrite: (text: string) => string): boolean {
  const key = name.toLowerCase()
  const list = header.header_list
  const values = header.headers?.[key]
  const decoded = header.headers_decoded?.[key]
  if (!list || !values?.length || !decoded || decoded.length !== values.length || !header.decode_header) return false
  const at = list.findIndex((line) => FIELD.exec(line)?.[1]?.toLowerCase() === key)
  const line = at < 0 ? undefined : list[at]
  if (line === undefined || FIELD.exec(line)?.[2] !== values[0]) return false
  // `Subject:` and the blanks after it, not a line break: Haraka's own value starts past
  // the break too (`Subject: \n` has the value ''), and the break must stay where it is
  const lead = /^[^:]*:[ \t]*/.exec(line)?.[0] ?? ''
  const rewritten = lead + rewrite(line.slice(lead.length))
  const value = FIELD.exec(rewritten)?.[2]
  if (value === undefined) return false
  list[at] = rewritten
  values[0] = value
  decoded[0] = header.decode_header(value)
  return true
}

/**
 * Removes the lines Haraka's parser did not take for fields (`X-Shop-Notice : …`, with
 * white space before the colon: kept in `header_list`, written out, read by mail
 * clients) that `drop` picks. Returns how many.
 */
function removeUnparsedLines(header: HarakaHeader, drop: (line: string) => boolean): number {
  const list = header.header_list
  if (!list) return 0
  const keep = list.filter((line) => FIELD.test(line) || !drop(line))
  const removed = list.length - keep.length
  if (removed) replaceAll(list, keep)
  return removed
}

/** Replaces an array's contents in place (others hold a reference to it). */
function replaceAll<T>(target: T[], items: readonly T[]): void {
  target.length = 0
  for (const item of items) target.push(item)
}

/** The message as Haraka received it, whole. */
export function transactionBytes(txn: Transaction): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    txn.message_stream.once('error', onError)
    txn.message_stream.get_data((buf) => {
      txn.message_stream.removeListener('error', onError)
      resolve(buf)
    })
  })
}

/**
 * The Authentication-Results values of the message as it was received, topmost first.
 * Haraka core renames every inbound Authentication-Results to Original-Authentication-Results
 * (appended at the end of the header) before data_post, and the message stream writes that
 * edited header (`headers`, the Header's header_list) in place of the received one. The
 * received bytes are still in the stream: read once with the edited header set aside, the
 * stream gives them as they came (after core's own Received line). Undefined when the stream
 * is not laid out so: nothing is then read as a gateway's results.
 */
export function receivedAuthResults(txn: Transaction): Promise<string[] | undefined> {
  const stream = txn.message_stream
  const edited = stream.headers
  if (!Array.isArray(edited)) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    stream.once('error', onError)
    stream.headers = []
    try {
      // the stream decides synchronously, in get_data, whether to write the edited header
      stream.get_data((buf) => {
        stream.removeListener('error', onError)
        const end = headerBlock(buf)
        resolve(authResultsInHeader(buf.subarray(0, end ? end.head : buf.length).toString('latin1')))
      })
    } catch (err) {
      stream.removeListener('error', onError)
      reject(err as Error)
    } finally {
      stream.headers = edited
    }
  })
}

/**
 * Removes the Authentication-Results (and Original-) fields written under `authservId`,
 * the others staying where they are; returns how many.
 */
export function removeAuthResultsOf(txn: Transaction, authservId: string): number {
  let removed = 0
  for (const name of [AR_HEADER, `Original-${AR_HEADER}`]) {
    const ours = (v: string): boolean => isOurAuthResults(v, authservId)
    const inPlace = removeFields(txn.header, name, ours)
    if (inPlace !== undefined) {
      removed += inPlace
      continue
    }
    // a Header laid out otherwise: Haraka's API, which moves the others to the top
    const values = txn.header.get_all(name)
    const keep = values.filter((v) => !ours(v))
    if (keep.length === values.length) continue
    removed += values.length - keep.length
    txn.remove_header(name)
    for (const v of keep.reverse()) txn.add_leading_header(name, v.replace(/\r?\n$/, ''))
  }
  return removed
}

/** Removes inbound X-Shop-Notice headers and Authentication-Results that carry our authserv-id. */
export function removeForgedHeaders(txn: Transaction, authservId: string): number {
  // first the lines Haraka did not take for fields (`X-Shop-Notice : …`) but a mail client may
  const unparsed = removeUnparsedLines(txn.header, (line) => isForgedLine(line, authservId))
  const removed = txn.header.get_all(VERDICT_HEADER).length + removeAuthResultsOf(txn, authservId)
  // ... and remove_header() also tells Haraka that the header block changed
  txn.remove_header(VERDICT_HEADER)
  return unparsed + removed
}

/**
 * Takes the fragments other plugins gave core's connection.auth_results(). Haraka writes
 * them as `Authentication-Results: <me>; …` before data_post, and again after it
 * (data_post_respond), when it first removes EVERY Authentication-Results header —
 * ours included. So they are taken here and written by us: merged into our header when
 * our authserv-id is `me`, else into a header of `me`'s own, as core would have.
 */
export function takeCoreFragments(connection: Connection, txn: Transaction): string[] {
  const take = (notes: Record<string, unknown>): string[] => {
    const v = notes.authentication_results
    if (!Array.isArray(v)) return []
    notes.authentication_results = []
    return v.filter((x): x is string => typeof x === 'string')
  }
  return [...take(connection.notes), ...take(txn.notes)]
}

