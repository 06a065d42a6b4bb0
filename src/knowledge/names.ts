/**
 * Finding the registry's brands by name: in a text (brandsNamedIn, with a prefilter by the pairs of
 * characters the text holds) and as a sender's whole display name (brandsBySenderName). The names
 * themselves are compiled by parseRegistry (registry.ts).
 */
import { type NameForm, capitalIAsL, nameForm } from '../message/text.js'
import type { Brand, Registry } from './registry.js'

export interface NameEntry {
  readonly name: string
  readonly brand: Brand
  /** ASCII names match on word boundaries ("au" must not match "Paul"); others as substrings */
  readonly wordBound: boolean
  /**
   * The forms matched with case kept: short ASCII names (JCB, UPS) only as written;
   * ambiguous names as written or in capitals (Norton, NORTON; never "norton").
   */
  readonly cased?: readonly string[]
  /** an ambiguous name: it counts only where the caller says the message is a notice */
  readonly ambiguous?: true
}

export interface SenderNameEntry {
  readonly brand: Brand
  /** its words, NFKC, as written and in capitals (AAA; Chase, CHASE; TS Co, TS CO) */
  readonly forms: readonly (readonly string[])[]
}

export interface NamedInOptions {
  /** let ambiguous names count: the message's own wording already makes it a notice */
  readonly ambiguous?: boolean
}

/** A letter or digit of ASCII (the only letters and digits between U+0020 and U+007E), by its code; NaN (outside the text) is none. */
const isWordCode = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)

/**
 * A prefilter for brandsNamedIn: a name can be in a text only if every pair of adjacent UTF-16 units
 * of the name is in the text. One pass over the text stamps the hash of each of its pairs in a table
 * and marks the names whose first pair has that hash; a marked name is then searched only when the
 * hashes of all its other pairs are stamped too. A name the text holds always passes, so the answer
 * is the same, in the same order; of some 560 names, a notice's subject or lead leaves a few to search
 * (those it holds, and a few more). Hashes that collide only let more names through.
 */
const PAIR_BITS = 14
const PAIR_MASK = (1 << PAIR_BITS) - 1
const pairHash = (a: number, b: number): number => ((Math.imul(a, 0x9e3779b1) >>> (32 - PAIR_BITS)) ^ b) & PAIR_MASK

/** Names filed by the hash of their first pair: bucket h is `names[start[h]]` to `names[start[h + 1] - 1]`, indexes into `registry.names`. */
interface PairTable {
  readonly start: Uint32Array
  readonly names: Uint32Array
}

interface NameIndex {
  /** each name (`entry.name`) by its first pair */
  readonly plain: PairTable
  /** each form matched as written (`entry.cased`) by its first pair */
  readonly cased: PairTable
  /** per name, the hashes of the pairs checked before a search: of its name, and of each form as written */
  readonly pairs: readonly { readonly name: Uint32Array; readonly cased: readonly Uint32Array[] }[]
  /** names of one unit (no pair): always searched */
  readonly short: readonly number[]
}

function pairTable(filed: readonly (readonly [hash: number, name: number])[]): PairTable {
  const start = new Uint32Array(PAIR_MASK + 2)
  for (const [h] of filed) start[h + 1]!++
  for (let h = 0; h <= PAIR_MASK; h++) start[h + 1]! += start[h]!
  const next = start.slice(0, -1)
  const names = new Uint32Array(filed.length)
  for (const [h, i] of filed) names[next[h]!++] = i
  return { start, names }
}

/** The hashes checked for a needle: of each of its pairs, the first one first (none for one unit). */
function checkedPairs(needle: string): Uint32Array {
  const hashes = new Set<number>()
  for (let i = 0; i + 1 < needle.length; i++) hashes.add(pairHash(needle.charCodeAt(i), needle.charCodeAt(i + 1)))
  return Uint32Array.from(hashes)
}

const nameIndexes = new WeakMap<readonly NameEntry[], NameIndex>()
function nameIndex(names: readonly NameEntry[]): NameIndex {
  let index = nameIndexes.get(names)
  if (index) return index
  const plain: [number, number][] = []
  const cased: [number, number][] = []
  const short: number[] = []
  const pairs = names.map((entry, i) => {
    const forms = { name: checkedPairs(entry.name), cased: (entry.cased ?? []).map(checkedPairs) }
    if ([forms.name, ...forms.cased].some((p) => !p.length)) short.push(i)
    else {
      plain.push([forms.name[0]!, i])
      for (const h of new Set(forms.cased.map((p) => p[0]!))) cased.push([h, i])
    }
    return forms
  })
  index = { plain: pairTable(plain), cased: pairTable(cased), pairs, short }
  nameIndexes.set(names, index)
  return index
}

/** A text's pairs: `seen[hash] === stamp` for the hash of every pair in it (one table per reading, reused) */
interface PairSet {
  readonly seen: Uint32Array
  stamp: number
}
const pairSets: PairSet[] = []

/**
 * Stamps the pairs of `text` in the `slot`th table (brandsNamedIn uses up to three: its readings and the
 * text as written), and marks in `marks` the names of `table` filed under them.
 */
function pairsOf(text: string, slot: number, table: PairTable, marks: Uint8Array): PairSet {
  const set = (pairSets[slot] ??= { seen: new Uint32Array(PAIR_MASK + 1), stamp: 0 })
  if (++set.stamp === 0xffffffff) {
    set.seen.fill(0)
    set.stamp = 1
  }
  const { seen, stamp } = set
  const { start, names } = table
  for (let k = 1, a = text.charCodeAt(0); k < text.length; k++) {
    const b = text.charCodeAt(k)
    const h = pairHash(a, b)
    a = b
    if (seen[h] === stamp) continue
    seen[h] = stamp
    for (let j = start[h]!, end = start[h + 1]!; j < end; j++) marks[names[j]!] = 1
  }
  return set
}

const mayHold = (set: PairSet, pairs: Uint32Array): boolean => {
  for (let j = 0; j < pairs.length; j++) if (set.seen[pairs[j]!] !== set.stamp) return false
  return true
}

/**
 * Brands named in a text, longest name first, each once. A name inside a longer
 * name already found does not count (楽天 inside 楽天カード names one brand, not two).
 * Ambiguous names (Norton, Chase) count only when `opts.ambiguous` says the message
 * is a notice by its own wording.
 */
export function brandsNamedIn(registry: Registry, raw: string, opts: NamedInOptions = {}): Brand[] {
  const { text, spelled } = nameForm(raw)
  // the same text with its case kept, for names matched as written (lower case only changes ASCII length rarely)
  const cased = nameForm(raw, true).text
  const keepsCase = cased.length === text.length
  // and as a reader sees it where a capital I after a small letter stands for an l (WaImart,
  // Tractor SuppIy): a second reading of the same length, so that spans are shared
  const lookalike = capitalIAsL(raw)
  const other = lookalike === raw ? undefined : nameForm(lookalike)
  const readings: NameForm[] = [{ text, spelled }, ...(other && other.text !== text && other.text.length === text.length ? [other] : [])]
  // the pairs each reading holds (and the text as written): names that cannot be there are not searched
  const names = registry.names
  const index = nameIndex(names)
  const mayBe = new Uint8Array(names.length)
  const mayBeCased = new Uint8Array(names.length)
  const readingPairs = readings.map((r, j) => pairsOf(r.text, j, index.plain, mayBe))
  const casedPairs = keepsCase ? pairsOf(cased, readings.length, index.cased, mayBeCased) : undefined
  for (const i of index.short) mayBe[i] = mayBeCased[i] = 1
  const found: Brand[] = []
  const spans: [number, number][] = []
  for (let i = 0; i < names.length; i++) {
    const asWritten = names[i]!.cased !== undefined && casedPairs !== undefined
    if (!(asWritten ? mayBeCased[i] : mayBe[i])) continue
    const entry = names[i]!
    if (found.includes(entry.brand) || (entry.ambiguous && !opts.ambiguous)) continue
    // an ambiguous name needs its case; without it (a rare length change) it does not count
    if (entry.ambiguous && !keepsCase) continue
    const pairs = index.pairs[i]!
    let named = false
    if (asWritten) {
      for (let j = 0; j < entry.cased!.length && !named; j++) {
        named = mayHold(casedPairs, pairs.cased[j]!) && namedAt(text, cased, entry.cased![j]!, entry.wordBound, spans, spelled)
      }
    } else {
      for (let j = 0; j < readings.length && !named; j++) {
        named = mayHold(readingPairs[j]!, pairs.name) && namedAt(readings[j]!.text, readings[j]!.text, entry.name, entry.wordBound, spans, readings[j]!.spelled)
      }
    }
    if (named) found.push(entry.brand)
  }
  return found
}

/**
 * Finds `needle` in `haystack` as a word (when `wordBound`) outside the spans already taken, and takes its span.
 * Letters spelled out and joined (S M B C) count only where the name holds the whole run: "a b c d" names no "bcd".
 */
function namedAt(text: string, haystack: string, needle: string, wordBound: boolean, spans: [number, number][], spelled: NameForm['spelled']): boolean {
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    const end = at + needle.length
    if (wordBound && (isWordCode(text.charCodeAt(at - 1)) || isWordCode(text.charCodeAt(end)))) continue
    if (spans.some(([s, e]) => at >= s && end <= e)) continue
    if (spelled.some(([s, e]) => at < e && end > s && !(at <= s && end >= e))) continue
    spans.push([at, end])
    return true
  }
  return false
}

/** A reference tag written after a name (#4821, #NKrEKu): a ticket or campaign number, no word of the name. */
const REFERENCE_TAG = /#[\p{L}\p{N}]+/gu
const NOT_WORD = /[^\p{L}\p{N}]+/u
export const wordsOf = (text: string): string[] => text.replace(REFERENCE_TAG, ' ').split(NOT_WORD).filter(Boolean)

/**
 * Brands whose sender name is the whole display name: the name as written or in capitals, as whole
 * words, and besides it at least one word and only words of `roleWords` (lower case: support,
 * member, team, billing …), reference tags (#4821) and punctuation. "AAA Member Support" and
 * "Courtesy AAA Support" name `aaa`; "AAA Plumbing", "AAA Storage Billing", "Chase Smith", and
 * "Chase" alone (a first name) name nobody. Linear in the display name. docs/registry.md, sender names.
 */
export function brandsBySenderName(registry: Registry, displayName: string, roleWords: ReadonlySet<string>): Brand[] {
  if (!registry.senderNames.length || !roleWords.size) return []
  const words = wordsOf(displayName.normalize('NFKC'))
  // the words that are no role word must all lie inside the one run of the name's words
  let first = -1
  let last = -1
  words.forEach((w, i) => {
    if (roleWords.has(w.toLowerCase())) return
    if (first < 0) first = i
    last = i
  })
  const found: Brand[] = []
  for (const entry of registry.senderNames) {
    if (found.includes(entry.brand)) continue
    if (entry.forms.some((form) => nameRunAt(words, form, first, last))) found.push(entry.brand)
  }
  return found
}

/** Is there a run of `form` in `words`, with at least one other word, covering every word from `first` to `last`? */
function nameRunAt(words: readonly string[], form: readonly string[], first: number, last: number): boolean {
  const k = form.length
  if (words.length <= k) return false
  const from = first < 0 ? 0 : Math.max(0, last - k + 1)
  const to = first < 0 ? words.length - k : Math.min(first, words.length - k)
  for (let i = from; i <= to; i++) if (form.every((f, j) => words[i + j] === f)) return true
  return false
}
