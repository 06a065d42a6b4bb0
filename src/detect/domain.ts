/**
 * Domains that imitate a registered brand, and mixed-script (IDN) domains.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { DomainIndex, Lookalike } from '../knowledge/domains.js'
import type { Link } from '../message/parse.js'
import { type Brand } from '../knowledge/registry.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'
import { examples, unique } from './options.js'

/** The domains of a message that imitate a registered brand: its From domain, and link hosts. */
export interface Lookalikes {
  readonly from?: Lookalike
  readonly links: readonly (readonly [host: string, look: Lookalike])[]
}

export function findLookalikes(fromDomain: string | undefined, fromBrand: Brand | undefined, links: readonly Link[], domains: DomainIndex): Lookalikes {
  const linkLooks = unique(links.map((l) => l.host).filter(Boolean)).flatMap((h) => {
    const look = domains.lookalike(h)
    // a brand's own mail may link to its tenant on a hosting platform (usps.force.com): not an imitation
    return look && !(look.brand === fromBrand && domains.inList(h, 'hosting_platforms')) ? [[h, look] as const] : []
  })
  const from = fromDomain ? domains.lookalike(fromDomain) : undefined
  return { ...(from ? { from } : {}), links: linkLooks }
}

/** The brand the message's domains imitate, if any (the From domain first). */
export const imitatedBrand = (looks: Lookalikes): Brand | undefined => (looks.from ?? looks.links[0]?.[1])?.brand

/** Lookalike and mixed-script domains, in the From address and in links. */
function domainHits(fromDomain: string | undefined, looks: Lookalikes, links: readonly Link[], domains: DomainIndex): Hit[] {
  const hits: Hit[] = []
  if (fromDomain && looks.from) hits.push({ symbol: 'DOMAIN_LOOKALIKE_FROM', options: [fromDomain, looks.from.brand.id, looks.from.how] })
  if (looks.links.length) {
    hits.push({ symbol: 'DOMAIN_LOOKALIKE_LINK', options: examples(looks.links).map(([h, l]) => `${h}:${l.brand.id}:${l.how}`) })
  }
  const mixed = unique([fromDomain ?? '', ...links.map((l) => l.host)].filter((h) => h && domains.mixedScriptLabels(h).length))
  if (mixed.length) hits.push({ symbol: 'DOMAIN_IDN_MIXED_SCRIPT', options: examples(mixed) })
  return hits
}

export const domainDetector: Detector = (c) => domainHits(c.fromDomain, c.looks, c.facts.links, c.knowledge.domains)
