/**
 * Text taken from held messages, made safe to show (sanitized, decoded), their header
 * blocks read, and files written atomically.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import libmime from 'libmime'

import { headerBlock } from '../shared/domain.js'

// ---------------------------------------------------------------- text from messages

/**
 * One line of text from a message, safe to print on a terminal and in a TAB-separated
 * line: folding undone, control and invisible formatting characters (which an attacker
 * can use to hide or reorder text) shown as U+FFFD, spaces collapsed, at most `max`
 * characters.
 */
export function sanitizeText(s: string, max = 300): string {
  const out = s
    .replace(/\r?\n[ \t]+/g, ' ')
    .replace(/[\t\r\n\u2028\u2029]/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD')
    .replace(/\p{Cf}/gu, '\uFFFD')
    .replace(/ {2,}/g, ' ')
    .trim()
  const chars = [...out]
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : out
}

/**
 * Every character a terminal acts on or that hides or reorders text: C0 controls but TAB
 * (ESC among them), DEL, C1 controls (CSI U+009B…), line and paragraph separators, format
 * characters (bidi embeddings, overrides and isolates U+202A-202E and U+2066-2069,
 * zero-width characters), and every other Default_Ignorable code point (Hangul fillers,
 * variation selectors, tag characters, the unassigned ones).
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/gu

/** A line for a terminal: every UNPRINTABLE character shown as U+FFFD, TAB kept (the column separator). */
export const printable = (line: string): string => line.replace(UNPRINTABLE, '\uFFFD')

/** A value as one line of JSON in which no UNPRINTABLE character is written raw: each is a \\u escape (JSON.parse gives it back). */
export const printableJson = (value: unknown): string =>
  JSON.stringify(value).replace(UNPRINTABLE, (c) => [...c.split('')].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''))

/** A header value decoded (RFC 2047 encoded-words, any charset libmime knows) and sanitized. */
export function decodeHeaderText(raw: string, max = 300): string {
  const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ')
  let decoded = unfolded
  try {
    decoded = libmime.decodeWords(unfolded)
  } catch {
    // an undecodable encoded-word is shown as written
  }
  return sanitizeText(decoded, max)
}

export interface HeaderField {
  readonly name: string
  /** the value as stored, folding kept (lines joined with \n) */
  readonly raw: string
}

/** The header fields of a stored message, in order. */
export function parseHeaderBlock(head: string): HeaderField[] {
  const fields: { name: string; raw: string }[] = []
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length) {
      fields[fields.length - 1]!.raw += `\n${line}`
      continue
    }
    const i = line.indexOf(':')
    if (i <= 0) continue
    fields.push({ name: line.slice(0, i), raw: line.slice(i + 1).replace(/^[ \t]/, '') })
  }
  return fields
}

/** Where the header block ends (the first empty line), or -1. */
const headEnd = (b: Buffer): number => headerBlock(b)?.head ?? -1

/** Reads the header block of a stored message (up to the first empty line, at most `limit` bytes). */
export async function readHead(file: string, limit = 1024 * 1024): Promise<string> {
  const fh = await fs.promises.open(file, 'r')
  try {
    let all = Buffer.alloc(0)
    const buf = Buffer.alloc(64 * 1024)
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, all.length)
      all = Buffer.concat([all, buf.subarray(0, bytesRead)])
      const end = headEnd(all)
      if (end >= 0) return all.subarray(0, end).toString('utf8')
      if (!bytesRead || all.length >= limit) return all.subarray(0, limit).toString('utf8')
    }
  } finally {
    await fh.close()
  }
}

// ---------------------------------------------------------------- files

/**
 * Writes `file` whole or not at all: a temporary file in the same folder, flushed to
 * disk, then renamed over `file` (atomic on one filesystem). A reader sees the old
 * content or the new one, never half of it.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`)
  const fh = await fs.promises.open(tmp, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (err) {
    await fh.close().catch(() => undefined)
    await fs.promises.unlink(tmp).catch(() => undefined)
    throw err
  }
  await fh.close()
  try {
    await fs.promises.rename(tmp, file)
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => undefined)
    throw err
  }
}

export const isEnoent = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT'


// reading JSON written by an older or damaged file: each field checked
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
export const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
