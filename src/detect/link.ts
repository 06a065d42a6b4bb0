/**
 * Links: text that lies about the target, http and IP links, shorteners, links off the claimed brand.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { DomainIndex } from '../knowledge/domains.js'
import type { Link } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import { firstHost } from '../message/find.js'
import type { Detector } from './context.js'
import { examples, unique } from './options.js'
import { type BrandClaim, isStrongClaim } from './claim.js'

/** A URL written with the http scheme. */
const HTTP = /^\s*http:/i

export interface LinkInput {
  readonly links: readonly Link[]
  readonly claim?: BrandClaim
  readonly fromDomain?: string
  /** the domain of the mailing list that carried the message (List-Id), whose footer links are its own */
  readonly listDomain?: string
  readonly isNotice: boolean
  /** the organisational domain the From address authenticated as (aligned pass), if it did */
  readonly authenticatedAs?: string
}

/** Links: text that lies about the target, http and IP links, shorteners, links off the claimed brand. */
function linkHits(input: LinkInput, domains: DomainIndex): Hit[] {
  const hits: Hit[] = []
  const web = input.links.filter((l) => (l.scheme === 'http' || l.scheme === 'https') && l.host)
  const listReg = input.listDomain ? domains.host(input.listDomain).registrable : ''
  const own = (l: Link): boolean => listReg !== '' && domains.host(l.host).registrable === listReg
  const counted = web.filter((l) => !own(l))

  const lies = counted.flatMap((l) => {
    // host-like text: what a reader takes for "the address this link goes to"; full-width
    // text (ａｍａｚｏｎ．ｃｏ．ｊｐ) is read as the reader reads it, after NFKC
    const shown = l.text ? firstHost(l.text.normalize('NFKC'))?.toLowerCase() : undefined
    if (!shown) return []
    const shownReg = domains.host(shown).registrable
    const realReg = domains.host(l.host).registrable || l.host
    // an authenticated sender showing its own site through its mail service's click tracker
    // (cloud.example.com over u123.ct.sendgrid.net) says where the redirect lands: no lie about who it is
    if (shownReg === input.authenticatedAs && domains.inList(l.host, 'redirectors')) return []
    return shownReg && shownReg !== realReg ? [`${shown}>${l.host}`] : []
  })
  if (lies.length) hits.push({ symbol: 'LINK_TEXT_MISMATCH', options: examples(unique(lies)) })

  const ips = unique(counted.filter((l) => domains.host(l.host).isIp).map((l) => l.host))
  if (ips.length) hits.push({ symbol: 'LINK_IP', options: examples(ips) })
  if (!input.isNotice) return hits

  // plain http is what the sender wrote: an address written without a scheme (www.amazon.co.jp/…)
  // is no http link, whatever a mail client makes of it
  const http = unique(counted.filter((l) => l.scheme === 'http' && HTTP.test(l.url) && !domains.inList(l.host, 'neutral_link_domains')).map((l) => l.host))
  if (http.length) hits.push({ symbol: 'LINK_HTTP', options: examples(http) })
  const short = unique(counted.filter((l) => domains.inList(l.host, 'url_shorteners')).map((l) => l.host))
  if (short.length) hits.push({ symbol: 'LINK_SHORTENER', options: examples(short) })

  const claim = input.claim
  if (!claim) return hits
  const fromReg = input.fromDomain ? domains.host(input.fromDomain).registrable : ''
  // the promise is about the brand's own notices: for a claim made only in the text, an http link
  // to the sender's own site is the sender's (as for LINK_OFF_BRAND below); LINK_HTTP still counts it
  const broken = isStrongClaim(claim) ? http : http.filter((h) => domains.host(h).registrable !== fromReg)
  if (claim.brand.promises.links === 'https-only' && broken.length) {
    hits.push({ symbol: 'BRAND_PROMISE_HTTPS', options: [claim.brand.id, ...examples(broken, 2)] })
  }
  const brandLinks = new Set(claim.brand.link_domains)
  let onBrand = 0
  const off = unique(
    counted
      .filter((l) => {
        const reg = domains.host(l.host).registrable || l.host
        if (brandLinks.has(reg)) {
          onBrand++
          return false
        }
        if (domains.inList(l.host, 'neutral_link_domains') || domains.inList(l.host, 'redirectors') || domains.inList(l.host, 'url_shorteners')) {
          return false
        }
        // for a claim made only in the text, the sender's own site is its own business
        return isStrongClaim(claim) || reg !== fromReg
      })
      .map((l) => domains.host(l.host).registrable || l.host),
  )
  if (off.length) hits.push({ symbol: 'LINK_OFF_BRAND', options: [claim.brand.id, ...examples(off)] })
  else if (onBrand > 0) hits.push({ symbol: 'LINK_ALL_ON_BRAND', options: [claim.brand.id] })
  if (off.length && onBrand === 0) hits.push({ symbol: 'LINK_NO_BRAND_LINK', options: [claim.brand.id] })
  return hits
}

export const linkDetector: Detector = (c) =>
  linkHits(
    {
      links: c.facts.links,
      claim: c.claim,
      fromDomain: c.fromDomain,
      listDomain: c.facts.listDomain,
      isNotice: c.isNotice,
      ...(c.fromAuth.result === 'pass' && c.fromAuth.domain ? { authenticatedAs: c.fromAuth.domain } : {}),
    },
    c.knowledge.domains,
  )
