/**
 * A brand's own word, and its bad days: the promises it made (`card_data: never`,
 * `credentials: never`) and the incidents in force (`incidents:` of the registry, a leak
 * the brand announced). These read what the other detectors found (a card-data or
 * credential request), so they run after them (detect/index.ts).
 * Pure: no Haraka, no DNS, no clock (the scan time comes in the Context).
 */
import { verdictTempErrors } from '../auth/alignment.js'
import { type Brand, type Incident, incidentsInForce, mailDomainsOf } from '../knowledge/registry.js'
import type { Hit } from '../verdict/symbols.js'
import type { Context } from './context.js'
import { imitatedBrand } from './domain.js'
import { unique } from './options.js'

/**
 * The brands a message speaks for: the brand it claims (its From domain, its display name,
 * a bracketed subject label, a domain imitating it, or — for a notice — its subject, first
 * lines or links), every brand its display name names, and the brand its domains imitate;
 * none of them when the claim model (claim.ts) found it only mentioned (a marketplace shop's
 * own name, a brand an authenticated sender names in passing). A brand merely named in
 * personal mail is none of these: without notice wording the claim is only ever taken from
 * the sender, a subject label or an imitating domain.
 */
export function brandsSpokenFor(c: Context): Brand[] {
  const imitated = imitatedBrand(c.looks)
  const mentioned = new Set(c.mentions.map((m) => m.brand))
  const claimed = c.claim?.brand
  return unique([...(claimed ? [claimed] : []), ...c.sender.named, ...(imitated ? [imitated] : [])]).filter((b) => b === claimed || !mentioned.has(b))
}

/** Did one of the brand's own mail domains (or its issuer's) authenticate the message? */
export function authenticatedBy(c: Context, brand: Brand, hits: readonly Hit[]): boolean {
  if (hits.some((h) => h.symbol === 'BRAND_AUTHENTICATED' && h.options[0] === brand.id)) return true
  const passed = c.fromAuth.result === 'pass' ? c.fromAuth.domain : undefined
  const registry = c.knowledge.registry
  return !!passed && !registry.lists.free_mail_domains.has(passed) && mailDomainsOf(registry, brand).includes(passed)
}

/**
 * When the From domain is the brand's own and authentication could not be had (offline,
 * or a DNS failure for now), nothing says the brand did not send it (RFC 7489 6.6.2).
 */
function undecided(c: Context, brand: Brand): boolean {
  const from = c.fromDomain ? c.knowledge.domains.host(c.fromDomain).registrable : ''
  const own = from !== '' && mailDomainsOf(c.knowledge.registry, brand).includes(from)
  return own && (c.auth.source === 'unavailable' || c.fromAuth.result === 'temperror' || c.fromAuth.result === 'unavailable' || verdictTempErrors(c.auth).length > 0)
}

/** The most recent of the incidents in force (the one a hit names). */
const latest = (incidents: readonly Incident[]): Incident | undefined => [...incidents].sort((a, b) => b.start - a.start)[0]

const incidentOptions = (brand: Brand, i: Incident): string[] => [brand.id, `since=${i.since}`, `leaked=${i.leaked.join('+')}`]

/** What was asked for: `card`, `credentials`, or both. */
function asked(hits: readonly Hit[]): { card: boolean; credentials: boolean } {
  return {
    card: hits.some((h) => h.symbol === 'CONTENT_CARD_DATA_REQUEST'),
    credentials: hits.some((h) => h.symbol === 'CONTENT_CREDENTIAL_REQUEST'),
  }
}

/**
 * BRAND_INCIDENT, BRAND_INCIDENT_DATA_REQUEST, BRAND_PROMISE_CARD_DATA and
 * BRAND_PROMISE_CREDENTIALS, from the context and the hits of the other detectors.
 * Each fires at most once, for the first brand spoken for that it applies to.
 */
export function incidentHits(c: Context, hits: readonly Hit[]): Hit[] {
  const out: Hit[] = []
  // a brand's own authenticated notice speaks in its name: other brands its display name names are
  // its co-brands, issuers or partners (Amazon on the Amazon Mastercard's notice), not a claim
  const own = c.claim && authenticatedBy(c, c.claim.brand, hits) ? [c.claim.brand] : undefined
  const brands = own ?? brandsSpokenFor(c)
  if (!brands.length) return out
  const request = asked(hits)
  const what = [...(request.card ? ['card'] : []), ...(request.credentials ? ['credentials'] : [])]

  if (c.now) {
    const now = c.now
    const inForce = brands.map((b) => [b, latest(incidentsInForce(b, now))] as const).filter((x): x is readonly [Brand, Incident] => !!x[1])
    const unauthenticated = inForce.find(([b]) => !authenticatedBy(c, b, hits) && !undecided(c, b))
    if (unauthenticated) out.push({ symbol: 'BRAND_INCIDENT', options: incidentOptions(...unauthenticated) })
    const first = inForce[0]
    if (first && what.length) {
      out.push({ symbol: 'BRAND_INCIDENT_DATA_REQUEST', options: [first[0].id, `since=${first[1].since}`, `asked=${what.join('+')}`] })
    }
  }
  const cardPromise = request.card ? brands.find((b) => b.promises.card_data === 'never') : undefined
  if (cardPromise) out.push({ symbol: 'BRAND_PROMISE_CARD_DATA', options: [cardPromise.id] })
  const secretPromise = request.credentials ? brands.find((b) => b.promises.credentials === 'never') : undefined
  if (secretPromise) out.push({ symbol: 'BRAND_PROMISE_CREDENTIALS', options: [secretPromise.id] })
  return out
}
