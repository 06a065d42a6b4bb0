/**
 * The registry of retailers and payment brands (shop-notice.retailers.yaml):
 * validated at load, then compiled into lookups by registrable domain and by name.
 */
import { getDomain } from 'tldts'

import { Checker, isRecord } from '../shared/validate.js'
import { type NameForm, capitalIAsL, nameForm, normaliseName } from '../message/text.js'
import { type Incident, parseIncidents } from './incidents.js'
import { type AdminPattern, compileAdminPattern } from './pattern.js'

export { normaliseName }
export { type Incident, LEAKED, type Leaked, incidentsInForce } from './incidents.js'

export interface Promises {
  /** `never`: the brand's notices never carry attachments. */
  readonly attachments?: 'never'
  /** `https-only`: every link in the brand's notices is https. */
  readonly links?: 'https-only'
  /** The shape of the brand's order numbers, anchored. */
  readonly order_number?: AdminPattern
  /** `never`: the brand states that it never asks for card data by mail. */
  readonly card_data?: 'never'
  /** `never`: the brand states that it never asks for passwords, PINs or security codes by mail. */
  readonly credentials?: 'never'
}

/** What a brand is, for telling a brand named in passing (a shop's carrier, an invoice's payment method) from a claim. */
export const ROLES = ['shop', 'marketplace', 'card', 'bank', 'securities', 'payment', 'carrier', 'telecom', 'utility', 'government', 'platform', 'service'] as const
export type Role = (typeof ROLES)[number]

export interface Brand {
  readonly id: string
  readonly names: readonly string[]
  /** names that are also ordinary words or surnames (Norton, Chase): they name the brand only in a notice */
  readonly ambiguous_names: readonly string[]
  /**
   * names too common to look for in text (AAA, Chase): they name the brand only as the sender's
   * whole display name, with nothing but the phrase book's `sender_role_words` beside them
   */
  readonly sender_names: readonly string[]
  readonly sending_domains: readonly string[]
  readonly link_domains: readonly string[]
  readonly promises: Promises
  /** what the brand is (empty when the registry does not say) */
  readonly roles: readonly Role[]
  /** ids of the brands that issue or operate this one and send its mail from their own domains */
  readonly issued_by: readonly string[]
  /** ids of the brands whose name this product also carries (Amazon for the Amazon Mastercard) */
  readonly co_brands: readonly string[]
  /** where the registry's facts about the brand come from: https URLs or short citations */
  readonly sources: readonly string[]
  readonly incidents: readonly Incident[]
}

/** The top-level domain lists of the registry file. */
export const DOMAIN_LISTS = ['free_mail_domains', 'url_shorteners', 'neutral_link_domains', 'redirectors', 'hosting_platforms'] as const
export type DomainList = (typeof DOMAIN_LISTS)[number]

export interface Registry {
  readonly brands: ReadonlyMap<string, Brand>
  /** registrable sending domain -> brand */
  readonly bySendingDomain: ReadonlyMap<string, Brand>
  /** registrable link or sending domain -> brand */
  readonly byLinkDomain: ReadonlyMap<string, Brand>
  /** normalised names, longest first, each with its matcher */
  readonly names: readonly NameEntry[]
  /** the brands' sender names (`sender_names`), each in the forms it is matched in */
  readonly senderNames: readonly SenderNameEntry[]
  readonly lists: Readonly<Record<DomainList, ReadonlySet<string>>>
}

interface NameEntry {
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

interface SenderNameEntry {
  readonly brand: Brand
  /** its words, NFKC, as written and in capitals (AAA; Chase, CHASE; TS Co, TS CO) */
  readonly forms: readonly (readonly string[])[]
}

export interface NamedInOptions {
  /** let ambiguous names count: the message's own wording already makes it a notice */
  readonly ambiguous?: boolean
}

export interface RegistryResult {
  readonly value: Registry
  readonly warnings: readonly string[]
}

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/
const KNOWN_KEYS = new Set([
  'names', 'ambiguous_names', 'sender_names', 'sending_domains', 'link_domains', 'promises', 'roles', 'issued_by', 'co_brands', 'sources', 'incidents',
])
const KNOWN_PROMISES = new Set(['attachments', 'links', 'order_number', 'card_data', 'credentials'])

/** A registrable domain (public suffix + one label), lowercase ASCII, or a reason why not. */
export function registrableProblem(domain: string): string | undefined {
  if (domain !== domain.toLowerCase()) return 'not lowercase'
  if (!/^[a-z0-9.-]+$/.test(domain)) return 'not an ASCII domain name (write IDNs as xn--)'
  const reg = getDomain(domain, { allowPrivateDomains: true })
  if (reg !== domain) return reg ? `not a registrable domain (did you mean ${reg}?)` : 'not a registrable domain'
  return undefined
}

export function parseRegistry(raw: unknown, file: string): RegistryResult {
  const c: Checker = new Checker(file)
  const warnings = c.warnings
  const fail = (key: string, problem: string): never => c.fail(key, problem)
  if (raw === null || raw === undefined || (isRecord(raw) && Object.keys(raw).length === 0)) {
    fail('retailers', 'missing: the file is empty or could not be read')
  }
  if (!isRecord(raw)) return fail('(top level)', 'expected a mapping with a `retailers` key')
  c.unknownKeys(raw, new Set<string>(['retailers', ...DOMAIN_LISTS]), (key) => key)
  const retailers = raw.retailers
  if (!isRecord(retailers)) return fail('retailers', 'expected a mapping of brand id to brand')

  const brands = new Map<string, Brand>()
  const bySendingDomain = new Map<string, Brand>()
  const byLinkDomain = new Map<string, Brand>()
  const nameOwner = new Map<string, string>()
  const names: NameEntry[] = []
  const senderNames: SenderNameEntry[] = []

  for (const [id, entry] of Object.entries(retailers)) {
    const at = `retailers.${id}`
    if (!ID_RE.test(id)) fail(at, 'brand id must be lowercase letters, digits, - or _')
    if (!isRecord(entry)) return fail(at, 'expected a mapping')
    c.unknownKeys(entry, KNOWN_KEYS, (key) => `${at}.${key}`)

    const strings = (key: string, required: boolean): string[] => c.strings(entry[key], `${at}.${key}`, required)
    const domains = (key: string, required: boolean): string[] =>
      strings(key, required).map((d, i) => {
        const problem = registrableProblem(d)
        return problem ? fail(`${at}.${key}[${i}]`, `${JSON.stringify(d)}: ${problem}`) : d
      })

    const oneOf = <T extends string>(key: string, allowed: readonly T[]): T[] => c.enumList(strings(key, false), `${at}.${key}`, allowed)

    const brandNames = strings('names', true)
    const ambiguousNames = strings('ambiguous_names', false)
    const senderOnly = strings('sender_names', false)
    const issuedBy = strings('issued_by', false)
    // a product sent by its issuers (a co-branded card) may have no domain of its own
    const sending = domains('sending_domains', issuedBy.length === 0)
    const links = domains('link_domains', false)
    const promises = parsePromises(entry.promises, `${at}.promises`, fail, warnings, file)
    const roles = oneOf('roles', ROLES)
    const coBrands = strings('co_brands', false)
    const sources = strings('sources', false).map((src, i) => {
      const problem = sourceProblem(src)
      return problem ? fail(`${at}.sources[${i}]`, `${JSON.stringify(src)}: ${problem}`) : src
    })
    const incidents = parseIncidents(entry.incidents, `${at}.incidents`, fail, warnings, file)

    const brand: Brand = {
      id,
      names: brandNames,
      ambiguous_names: ambiguousNames,
      sender_names: senderOnly,
      sending_domains: sending,
      link_domains: [...new Set([...sending, ...links])],
      promises,
      roles,
      issued_by: issuedBy,
      co_brands: coBrands,
      sources,
      incidents,
    }
    brands.set(id, brand)

    sending.forEach((d, i) => {
      const other = bySendingDomain.get(d)
      if (other && other.id !== id) fail(`${at}.sending_domains[${i}]`, `${d} already belongs to ${other.id}`)
      bySendingDomain.set(d, brand)
    })
    const addName = (n: string, key: string, ambiguous: boolean): void => {
      const norm = normaliseName(n)
      const owner = nameOwner.get(norm)
      if (owner && owner !== id) fail(key, `${JSON.stringify(n)} is already a name of ${owner}`)
      if (owner) return
      nameOwner.set(norm, id)
      const ascii = /^[\x20-\x7e]+$/.test(norm)
      const written = normaliseName(n, true)
      if (ambiguous) {
        if (!ascii) fail(key, `${JSON.stringify(n)}: only ASCII names can be ambiguous (other scripts have no case to tell a name by)`)
        if (written === norm) fail(key, `${JSON.stringify(n)}: write an ambiguous name capitalised, as the brand writes it`)
        names.push({ name: norm, brand, wordBound: true, cased: [...new Set([written, written.toUpperCase()])], ambiguous: true })
        return
      }
      const cased = ascii && norm.length <= 3 && written !== norm ? [written] : undefined
      names.push({ name: norm, brand, wordBound: ascii, ...(cased ? { cased } : {}) })
    }
    brandNames.forEach((n, i) => addName(n, `${at}.names[${i}]`, false))
    ambiguousNames.forEach((n, i) => addName(n, `${at}.ambiguous_names[${i}]`, true))
    // a sender name is no name in text: it shares the uniqueness rule of names, and may repeat one of
    // the brand's own ambiguous names (Chase), but it is matched only by brandsBySenderName
    senderOnly.forEach((n, i) => {
      const key = `${at}.sender_names[${i}]`
      const norm = normaliseName(n)
      const owner = nameOwner.get(norm)
      if (owner && owner !== id) fail(key, `${JSON.stringify(n)} is already a name of ${owner}`)
      if (!/^[\x20-\x7e]+$/.test(norm) || !/[a-z]/.test(norm)) fail(key, `${JSON.stringify(n)}: a sender name is ASCII, with letters`)
      const written = n.normalize('NFKC')
      if (written.toLowerCase() === written) fail(key, `${JSON.stringify(n)}: write a sender name capitalised, as the brand writes it`)
      nameOwner.set(norm, id)
      senderNames.push({ brand, forms: [...new Set([written, written.toUpperCase()])].map(wordsOf) })
    })
  }
  if (brands.size === 0) fail('retailers', 'no brands defined')
  // relations name other brands of the same (merged) file
  for (const brand of brands.values()) {
    for (const key of ['issued_by', 'co_brands'] as const) {
      brand[key].forEach((other, i) => {
        const where = `retailers.${brand.id}.${key}[${i}]`
        if (other === brand.id) fail(where, 'a brand cannot name itself')
        if (!brands.has(other)) fail(where, `unknown brand ${JSON.stringify(other)}`)
        if (brand[key].indexOf(other) !== i) fail(where, `${JSON.stringify(other)} is listed twice`)
      })
    }
    brand.issued_by.forEach((issuer, i) => {
      if (brands.get(issuer)?.issued_by.length) fail(`retailers.${brand.id}.issued_by[${i}]`, `${issuer} is itself issued by another brand: name the brand that sends`)
    })
  }
  // a link domain may be shared (a CDN two brands use): the first brand listing it keeps it
  for (const brand of brands.values()) {
    for (const d of brand.link_domains) if (!byLinkDomain.has(d)) byLinkDomain.set(d, brand)
  }
  for (const [d, brand] of bySendingDomain) byLinkDomain.set(d, brand)

  const lists = Object.fromEntries(
    DOMAIN_LISTS.map((key) => {
      const v = raw[key]
      if (v === undefined || v === null) return [key, new Set<string>()]
      if (!Array.isArray(v)) return fail(key, 'expected a list of registrable domains')
      return [
        key,
        new Set(
          v.map((d, i) => {
            const problem = typeof d === 'string' ? registrableProblem(d) : 'expected a string'
            return problem ? fail(`${key}[${i}]`, `${JSON.stringify(d)}: ${problem}`) : (d as string)
          }),
        ),
      ]
    }),
  ) as Record<DomainList, Set<string>>

  names.sort((a, b) => b.name.length - a.name.length)
  return { value: { brands, bySendingDomain, byLinkDomain, names, senderNames, lists }, warnings }
}

function parsePromises(
  v: unknown,
  at: string,
  fail: (key: string, problem: string) => never,
  warnings: string[],
  file: string,
): Promises {
  if (v === undefined) return {}
  if (!isRecord(v)) return fail(at, 'expected a mapping')
  for (const key of Object.keys(v)) if (!KNOWN_PROMISES.has(key)) warnings.push(`${file}: ${at}.${key}: unknown promise, ignored`)
  const out: { -readonly [K in keyof Promises]: Promises[K] } = {}
  for (const key of ['attachments', 'card_data', 'credentials'] as const) {
    if (v[key] === undefined) continue
    if (v[key] !== 'never') fail(`${at}.${key}`, 'the only promise is `never`')
    out[key] = 'never'
  }
  if (v.links !== undefined) {
    if (v.links !== 'https-only') fail(`${at}.links`, 'the only promise is `https-only`')
    out.links = 'https-only'
  }
  if (v.order_number !== undefined) {
    if (typeof v.order_number !== 'string' || !v.order_number) return fail(`${at}.order_number`, 'expected a pattern string')
    try {
      // linear-time RE2 (src/knowledge/pattern.ts): an admin's pattern cannot backtrack for minutes
      out.order_number = compileAdminPattern(v.order_number)
    } catch (err) {
      fail(`${at}.order_number`, `invalid pattern: ${(err as Error).message}`)
    }
  }
  return out
}

/** A citation: a non-empty string; one that looks like an address (scheme://, http:, www.) must be an https URL. */
function sourceProblem(src: string): string | undefined {
  if (/^www\./i.test(src)) return 'a URL must be https: write it with https://'
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(src) && !/^https?:/i.test(src)) return undefined
  let url: URL
  try {
    url = new URL(src)
  } catch {
    return 'not a valid URL'
  }
  return url.protocol === 'https:' ? undefined : 'a URL must be https'
}

/**
 * The registrable domains that genuinely send the brand's mail: its own sending domains and
 * those of the brands that issue it (a co-branded card's notices come from its issuer).
 */
export function mailDomainsOf(registry: Registry, brand: Brand): string[] {
  const issuers = brand.issued_by.map((id) => registry.brands.get(id)).filter((b) => b !== undefined)
  return [...new Set([...brand.sending_domains, ...issuers.flatMap((b) => b.sending_domains)])]
}

/** The registered brand whose sending domains include this domain's registrable domain. */
export function brandOfDomain(registry: Registry, domain: string | undefined): Brand | undefined {
  if (!domain) return undefined
  const reg = getDomain(domain.toLowerCase(), { allowPrivateDomains: true })
  // anyone can have an address at a free-mail provider, even one that a brand also sends from
  return reg && !registry.lists.free_mail_domains.has(reg) ? registry.bySendingDomain.get(reg) : undefined
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
const wordsOf = (text: string): string[] => text.replace(REFERENCE_TAG, ' ').split(NOT_WORD).filter(Boolean)

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
