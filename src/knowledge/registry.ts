/**
 * The registry of retailers and payment brands (shop-notice.retailers.yaml):
 * validated at load, then compiled into lookups by registrable domain and by name.
 */
import { getDomain } from 'tldts'

import { Checker, isRecord } from '../shared/validate.js'
import { normaliseName } from '../message/text.js'
import { type Incident, parseIncidents } from './incidents.js'
import { type AdminPattern, compileAdminPattern } from './pattern.js'
import { type NameEntry, type SenderNameEntry, wordsOf } from './names.js'

export { normaliseName }
export { type NamedInOptions, brandsBySenderName, brandsNamedIn } from './names.js'
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
