/**
 * Finders for things written in message text and headers, each stated by what it finds:
 * host names and address domains (accepted when the public-suffix list knows their
 * suffix), order numbers, the parts of a structured header. Each reads its input once,
 * so its time is linear in the input, whatever a sender writes (no regex here can
 * backtrack: test/unit/redos.test.ts). Pure functions; test/unit/linear.test.ts states what each
 * finds and refuses.
 */
import { domainToASCII } from 'node:url'

import { parse } from 'tldts'


/** `s` without the trailing characters that are in `chars` (was `/[…]+$/`, quadratic on `!!!!…x`). */
export function trimEnd(s: string, chars: string): string {
  let end = s.length
  while (end > 0 && chars.includes(s[end - 1]!)) end--
  return end === s.length ? s : s.slice(0, end)
}

/**
 * A structured header value (RFC 5322, RFC 8601) split at `sep` where a parser splits
 * it: outside quoted-strings and comments. Comments (nested, with quoted-pairs) become
 * one space; quoted-strings are kept as written, quotes and backslashes included. An
 * unclosed comment or quoted-string runs to the end, as it does for a parser. Linear.
 * (Was `value.replace(/\([^)]*\)/g, ' ').split(';')`: quadratic on `((((…`, and it split
 * inside quoted-strings, where a sender's `"a;dkim=pass"@x` became a result.)
 */
export function splitStructured(s: string, sep = ';'): string[] {
  const parts: string[] = []
  let cur = ''
  let depth = 0
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (quoted) {
      cur += c
      if (c === '\\' && i + 1 < s.length) cur += s[++i]
      else if (c === '"') quoted = false
    } else if (depth > 0) {
      if (c === '\\') i++
      else if (c === '(') depth++
      else if (c === ')' && --depth === 0) cur += ' '
    } else if (c === '"') {
      quoted = true
      cur += c
    } else if (c === '(') depth = 1
    else if (c === sep) {
      parts.push(cur)
      cur = ''
    } else cur += c
  }
  parts.push(cur)
  return parts
}

/** ASCII letters, digits, hyphen and dot: what a host name written in text is made of. */
const isHostChar = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e
const isAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)

/** A DNS label: 1 to 63 characters, no hyphen at either end. */
const isLabel = (label: string): boolean =>
  label.length >= 1 && label.length <= 63 && !label.startsWith('-') && !label.endsWith('-')

/**
 * `name` when it is a host under a public suffix that ICANN knows (the public-suffix list,
 * through tldts): at least one label before the suffix, every label a DNS label, at most
 * 253 characters. Unicode names are checked in their ASCII (xn--) form. Else undefined.
 */
export function knownHost(name: string): string | undefined {
  if (!name || name.length > 253) return undefined
  const ascii = /^[\x00-\x7f]*$/.test(name) ? name : domainToASCII(name)
  if (!ascii || ascii.length > 253 || !ascii.split('.').every(isLabel)) return undefined
  const p = parse(ascii, { allowPrivateDomains: false })
  return p.isIcann && !p.isIp && p.domain ? name : undefined
}

/** `run` without dots and hyphens at either end (a sentence's full stop, a dash before a name). */
function trimRun(run: string): string {
  let i = 0
  let j = run.length
  while (i < j && !isAlnum(run.charCodeAt(i))) i++
  while (j > i && !isAlnum(run.charCodeAt(j - 1))) j--
  return run.slice(i, j)
}

/**
 * The first host name written in a text (`amazon.co.jp`, `https://www.example.com/…`,
 * `Visit amazon.co.jp.`): the first run of ASCII letters, digits, dots and hyphens that,
 * without dots and hyphens at its ends, is a host under an ICANN public suffix
 * (knownHost). Refused: bare suffixes (`co.jp`), unknown endings (`index.html`,
 * `example.c0m`, `shop.example`), IP addresses, runs with an empty or over-long label.
 * One pass over the text, one suffix lookup per run.
 */
export function firstHost(text: string): string | undefined {
  let i = 0
  while (i < text.length) {
    if (!isHostChar(text.charCodeAt(i))) {
      i++
      continue
    }
    let j = i
    while (j < text.length && isHostChar(text.charCodeAt(j))) j++
    const run = trimRun(text.slice(i, j))
    if (run.includes('.') && knownHost(run)) return run
    i = j
  }
  return undefined
}

/** The characters of an address's local part (RFC 5322 atext and the dot, Unicode letters and digits as in RFC 6532). */
const LOCAL_CHAR = /^[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]$/u
/** The characters of a domain written in text: letters and digits of any script, hyphen, dot. */
const DOMAIN_CHAR = /^[\p{L}\p{N}.-]$/u

/**
 * The domain of the first e-mail address written in a text (a display name holding an
 * address, `Amazon <support@amazon.co.jp>`): an `@` after a local-part character, then the
 * longest run of letters, digits, dots and hyphens, without dots and hyphens at its ends,
 * that is a host under an ICANN public suffix (knownHost; IDNs such as `例え.jp` too).
 * Characters are code points; one pass, one suffix lookup per `@`.
 */
export function addressDomainIn(text: string): string | undefined {
  const cps = [...text]
  for (let at = 1; at < cps.length; at++) {
    if (cps[at] !== '@' || !LOCAL_CHAR.test(cps[at - 1]!)) continue
    let j = at + 1
    while (j < cps.length && j - at <= 254 && DOMAIN_CHAR.test(cps[j]!)) j++
    let domain = cps.slice(at + 1, j).join('')
    while (domain.endsWith('.') || domain.endsWith('-')) domain = domain.slice(0, -1)
    const host = domain.includes('.') ? knownHost(domain) : undefined
    if (host) return host
    at = j - 1
  }
  return undefined
}

/** The most characters an order number has (UUID-sized references fit). */
const ORDER_ID_MAX = 40
const ORDER_ID_MIN = 5

/**
 * The order number that an order label points at (`注文番号: 250-1234567-1234567`,
 * `order # d01-1234567-1234567`): the first token starting in `text[from, from + window)`
 * that is ASCII letters and digits in groups joined by single hyphens, 5 to 40 characters
 * long, with a digit in it. A token is a whole run of letters, digits and hyphens: an
 * over-long run, or one with `--`, is no order number (not a prefix of one). One pass.
 */
export function orderIdIn(text: string, from = 0, window = 48): string | undefined {
  const end = Math.min(text.length, from + window)
  let i = from
  while (i < end) {
    const c = text.charCodeAt(i)
    if (!isAlnum(c) && c !== 0x2d) {
      i++
      continue
    }
    // a token runs to its end, also past the window (so that it is never cut)
    let j = i
    while (j < text.length && j - i <= ORDER_ID_MAX + 2 && (isAlnum(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2d)) j++
    const token = trimRun(text.slice(i, j))
    const whole = j >= text.length || !(isAlnum(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2d)
    if (
      whole &&
      token.length >= ORDER_ID_MIN &&
      token.length <= ORDER_ID_MAX &&
      !token.includes('--') &&
      /[0-9]/.test(token)
    ) {
      return token
    }
    // skip the rest of an over-long run
    while (j < text.length && (isAlnum(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2d)) j++
    i = j
  }
  return undefined
}
