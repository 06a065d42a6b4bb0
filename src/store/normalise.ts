/**
 * What the store hashes: a recipient address and an addressee name reduced to one
 * canonical form, so that the spellings a shop or a mail client vary between meet.
 * Pure: no clock, no I/O.
 */
import { domainToASCII } from 'node:url'

/**
 * `Taro.Yamada@Example.JP` → `taro.yamada@example.jp`.
 *
 * - Angle brackets and surrounding spaces go; Unicode is NFC.
 * - The domain is lower-cased, and an internationalised domain becomes its A-label (xn--…).
 * - The local part is lower-cased too. RFC 5321 lets a host treat `Taro` and `taro` as two
 *   mailboxes, but no mainstream one does, and a shop that capitalises an address differently
 *   from the last notice must not look like a first contact. Sub-addresses (`taro+shop@`) are
 *   kept: people use them per shop on purpose.
 *
 * Returns '' for something that is not an address (no `@`, or an empty side).
 */
export function normaliseAddress(address: string): string {
  const a = address.normalize('NFC').trim().replace(/^<(.*)>$/s, '$1').trim()
  const at = a.lastIndexOf('@')
  if (at <= 0 || at === a.length - 1) return ''
  const local = a.slice(0, at).toLowerCase()
  const rawDomain = a.slice(at + 1).replace(/\.$/, '').toLowerCase()
  const domain = domainToASCII(rawDomain) || rawDomain
  return `${local}@${domain}`
}

/** Latin-script titles and greeting words that are not part of a name. */
const LATIN_TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam', 'dear', 'hello', 'hi'])

/**
 * Japanese honorifics and address suffixes written after a name (様, さま, 殿, 御中 …), with an
 * optional へ / 宛 / あて after them (「山田様へ」). Katakana is folded to hiragana before this
 * runs, so サマ is covered by さま.
 */
const JA_SUFFIX = /(?:様|さま|殿|どの|御中|各位|氏|さん)?(?:へ|宛て?|あて)?$/u

/** Han, hiragana, katakana, Hangul: scripts whose names are written without spaces, or with optional ones. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u

const INVISIBLE = /[\p{Cf}\u034f\u115f\u1160\u3164\uffa0]/gu

/** Katakana (U+30A1–U+30F6) → hiragana, so that ヤマダ and やまだ meet. */
const toHiragana = (s: string): string => s.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60))

/** A name longer than this is not a name; it is cut before hashing. */
export const MAX_NAME_LENGTH = 128

/**
 * An addressee name as written in a greeting → the form that is hashed.
 *
 * - NFKC (full-width letters, half-width katakana, U+3000 ideographic space), invisible
 *   characters removed, case folded.
 * - A name in a CJK script: every space removed (山田 太郎 = 山田太郎), katakana folded to
 *   hiragana, and the honorifics after it stripped (様, さま, 殿, どの, 御中, 各位, 氏, さん, and a
 *   following へ/宛/あて).
 * - A name in Latin (or another spaced) script: split into words at spaces, dots and commas;
 *   titles and greeting words (Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Sir, Madam, Dear, Hello, Hi)
 *   dropped; the words sorted, so `Yamada Taro` = `Taro Yamada` = `Mr. TARO YAMADA`.
 *
 * The store does this itself, on learn and on recall alike, so callers may pass names as the
 * greeting wrote them (honorific included). Returns '' when nothing of a name is left.
 */
const PUNCTUATION = /^[\p{P}\p{S}]$/u

/** `s` without punctuation and symbols at either end, one pass over its characters (a regex alternation here was quadratic). */
function trimPunctuation(s: string): string {
  const chars = [...s]
  let start = 0
  let end = chars.length
  while (start < end && PUNCTUATION.test(chars[start]!)) start++
  while (end > start && PUNCTUATION.test(chars[end - 1]!)) end--
  return chars.slice(start, end).join('')
}

export function normaliseName(name: string): string {
  let n = name.normalize('NFKC').replace(INVISIBLE, '').toLowerCase().trim()
  if (n.length > MAX_NAME_LENGTH) n = n.slice(0, MAX_NAME_LENGTH)
  if (CJK.test(n)) {
    n = toHiragana(n.replace(/\s+/gu, ''))
    // strip twice: 「山田様宛」 and 「山田太郎さま へ」 leave the name in one or two steps
    for (let i = 0; i < 2; i++) n = n.replace(JA_SUFFIX, '')
    return trimPunctuation(n)
  }
  const words = n
    .split(/[\s.,;:!?"'()[\]<>]+/u)
    .filter((w) => w.length > 0 && !LATIN_TITLES.has(w))
  return words.sort().join(' ')
}
