/**
 * Detectors: pure functions from message facts to named hits. No Haraka, no DNS,
 * no clock in here.
 */
import { type AuthFacts, alignedPassDomain, hasTempError, TEMP_RESULTS } from './auth.js'
import type { MessageFacts } from './message.js'
import { KINDS, LEAD_CHARS, NOTICE_MIN, type NoticeKind, PHRASES, WEIGHT } from './phrases.js'
import { type Brand, type Registry, brandOfDomain, brandsNamedIn, normaliseName } from './registry.js'
import type { Hit } from './symbols.js'

/** NFKC, lower case, no white space, no decorative brackets and symbols: the form phrases are matched in. */
export const normaliseText = (s: string): string =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\u3000【】「」『』〔〕［］\[\]()（）★☆■□◆◇●○◎※＊*〓♪!！?？:：|｜_＿~〜-]+/g, '')

const MATCHERS: readonly { kind: NoticeKind; phrases: readonly string[] }[] = KINDS.map((kind) => ({
  kind,
  phrases: [...new Set([...PHRASES[kind].ja, ...PHRASES[kind].en].map(normaliseText))],
}))

export interface KindClaim {
  readonly kind: NoticeKind
  /** summed weights of the phrases found */
  readonly weight: number
  /** the phrases found, with where: `subject:入金確認` */
  readonly evidence: readonly string[]
}

/** What the message claims to be, from its subject and the first lines of its body. */
export function detectKind(facts: Pick<MessageFacts, 'subject' | 'text'>): KindClaim | undefined {
  const subject = normaliseText(facts.subject)
  const lead = normaliseText(facts.text.slice(0, LEAD_CHARS))
  let best: KindClaim | undefined
  for (const { kind, phrases } of MATCHERS) {
    let weight = 0
    const evidence: string[] = []
    for (const p of phrases) {
      if (subject.includes(p)) {
        weight += WEIGHT.subject
        evidence.push(`subject:${p}`)
      }
      if (lead.includes(p)) {
        weight += WEIGHT.lead
        evidence.push(`body:${p}`)
      }
    }
    if (weight >= NOTICE_MIN && (!best || weight > best.weight)) best = { kind, weight, evidence }
  }
  return best
}

/** Signals from the authentication results alone. */
export function authHits(auth: AuthFacts): Hit[] {
  if (auth.source === 'unavailable') return [{ symbol: 'AUTH_UNAVAILABLE', options: [] }]
  const hits: Hit[] = []
  const temp = [
    TEMP_RESULTS.has(auth.spf.result) && 'spf',
    auth.dkim.some((d) => TEMP_RESULTS.has(d.result)) && 'dkim',
    TEMP_RESULTS.has(auth.dmarc.result) && 'dmarc',
  ].filter((x): x is string => typeof x === 'string')
  if (temp.length) hits.push({ symbol: 'AUTH_DNS_TEMPFAIL', options: temp })

  const from = auth.dmarc.fromDomain ?? '-'
  switch (auth.dmarc.result) {
    case 'pass':
      hits.push({ symbol: 'AUTH_DMARC_PASS', options: [from] })
      break
    case 'fail':
      hits.push({
        symbol: auth.dmarc.policy === 'quarantine' || auth.dmarc.policy === 'reject' ? 'AUTH_DMARC_FAIL_ENFORCED' : 'AUTH_DMARC_FAIL',
        options: [from, `p=${auth.dmarc.policy ?? 'none'}`],
      })
      break
    case 'none':
      if (auth.dmarc.fromDomain) hits.push({ symbol: 'AUTH_DMARC_MISSING', options: [from] })
      break
  }
  if (auth.spf.result === 'fail') hits.push({ symbol: 'AUTH_SPF_FAIL', options: [auth.spf.domain ?? '-'] })
  if (auth.spf.result === 'softfail') hits.push({ symbol: 'AUTH_SPF_SOFTFAIL', options: [auth.spf.domain ?? '-'] })
  if (!temp.length && auth.spf.result !== 'pass' && !auth.dkim.some((d) => d.result === 'pass')) {
    hits.push({ symbol: 'AUTH_NONE', options: [] })
  }
  return hits
}

export interface BrandClaim {
  readonly brand: Brand
  /** where the claim was found */
  readonly via: 'from-domain' | 'display-name' | 'subject'
}

/** The brands the sender shows: the one owning the From domain, and those named in the display name. */
export interface SenderBrands {
  readonly fromBrand?: Brand
  readonly named: readonly Brand[]
}

export function senderBrands(facts: Pick<MessageFacts, 'from'>, registry: Registry): SenderBrands {
  return {
    fromBrand: brandOfDomain(registry, facts.from?.domain),
    named: brandsNamedIn(registry, normaliseName(facts.from?.name ?? '')),
  }
}

/** Which registered brand the message claims to come from, if any. */
export function claimBrand(
  sender: SenderBrands,
  subject: string,
  registry: Registry,
  isNotice: boolean,
): BrandClaim | undefined {
  if (sender.fromBrand) return { brand: sender.fromBrand, via: 'from-domain' }
  if (sender.named[0]) return { brand: sender.named[0], via: 'display-name' }
  // a subject naming a brand is a claim only for a notice ("your Amazon order"), not for chat about it
  const bySubject = isNotice ? brandsNamedIn(registry, normaliseName(subject))[0] : undefined
  return bySubject ? { brand: bySubject, via: 'subject' } : undefined
}

/**
 * Signals about the brand claim: is it authenticated by one of the brand's own
 * domains, and does the display name agree with the address?
 */
export function brandHits(claim: BrandClaim | undefined, sender: SenderBrands, fromDomain: string | undefined, auth: AuthFacts): Hit[] {
  const hits: Hit[] = sender.named
    .filter((named) => named !== sender.fromBrand)
    .map((named) => ({ symbol: 'BRAND_DISPLAY_NAME_MISMATCH', options: [named.id, fromDomain || '-'] }))
  if (!claim) return hits

  const passed = alignedPassDomain(auth)
  if (passed && claim.brand.sending_domains.includes(passed)) {
    hits.push({ symbol: 'BRAND_AUTHENTICATED', options: [claim.brand.id, passed] })
  } else if (auth.source !== 'unavailable' && !hasTempError(auth)) {
    // a DNS failure is not evidence of forgery (RFC 7489 6.6.2): no verdict against the claim then
    hits.push({
      symbol: 'BRAND_NOT_AUTHENTICATED',
      options: [claim.brand.id, `via=${claim.via}`, `dmarc=${auth.dmarc.result}`, `from=${fromDomain || '-'}`],
    })
  }
  return hits
}
