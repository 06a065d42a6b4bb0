/**
 * Identifier alignment as DMARC defines it (RFC 7489 3.1, relaxed mode): whether the
 * From (author) domain was authenticated, computed from the facts themselves (the DKIM
 * d= domains, the SPF MAIL FROM domain, the From domain), so that a domain without a
 * DMARC record, or a trusted upstream that recorded only dkim= and spf=, still counts.
 * Pure: no DNS.
 */
import { alignedWith, registrableDomain } from '../shared/domain.js'
import { type AuthFacts, TEMP_RESULTS } from './authenticate.js'

/**
 * - `pass`: DMARC passed, or, with no DMARC result, a DKIM or SPF pass aligned with the From domain;
 * - `fail`: DMARC failed (its own, strict reading of the policy's alignment mode stands);
 * - `temperror`: no pass, and some check failed for DNS: a later attempt might pass;
 * - `none`: results are known, and none of them authenticates the From domain;
 * - `unavailable`: nothing was checked (an offline scan without trusted results).
 */
export type FromAuthResult = 'pass' | 'fail' | 'none' | 'temperror' | 'unavailable'

export interface FromAuth {
  readonly result: FromAuthResult
  /** what passed: DMARC itself, or the aligned DKIM or SPF identity where DMARC gave no result */
  readonly method?: 'dmarc' | 'dkim' | 'spf'
  /** the organisational (registrable) domain of the authenticated From domain */
  readonly domain?: string
}

/** DMARC results that are a verdict of DMARC itself; any other (none, permerror, absent) leaves alignment to us. */
const DMARC_VERDICTS: ReadonlySet<string> = new Set(['pass', 'fail'])

/**
 * Was the From domain authenticated? `fromDomain` is the message's From domain (the
 * DMARC result's own header.from is preferred when there is one).
 */
export function fromAuthentication(auth: AuthFacts, fromDomain: string | undefined): FromAuth {
  if (auth.source === 'unavailable') return { result: 'unavailable' }
  const org = registrableDomain(auth.dmarc.fromDomain ?? fromDomain)
  if (auth.dmarc.result === 'pass') return org ? { result: 'pass', method: 'dmarc', domain: org } : { result: 'none' }
  if (auth.dmarc.result === 'fail') return { result: 'fail', ...(org ? { domain: org } : {}) }
  if (TEMP_RESULTS.has(auth.dmarc.result)) return { result: 'temperror' }
  if (DMARC_VERDICTS.has(auth.dmarc.result) || !org) return { result: 'none' }
  // relaxed alignment: the same organisational domain as the From domain
  const aligned = alignedWith(org)
  if (auth.dkim.some((d) => d.result === 'pass' && aligned(d.domain))) return { result: 'pass', method: 'dkim', domain: org }
  if (auth.spf.result === 'pass' && aligned(auth.spf.domain)) return { result: 'pass', method: 'spf', domain: org }
  // only an identity that could align can change the answer when asked again
  const temp =
    (TEMP_RESULTS.has(auth.spf.result) && (!auth.spf.domain || aligned(auth.spf.domain))) ||
    auth.dkim.some((d) => TEMP_RESULTS.has(d.result) && aligned(d.domain))
  return { result: temp ? 'temperror' : 'none' }
}

/**
 * The checks whose result DNS kept from us for now AND that could change this message's
 * verdict: the DMARC record of the From domain (DMARC temperror, also when an aligned SPF
 * or DKIM check failed for DNS), a DKIM signature whose d= is aligned with the From domain
 * (its registrable domain), SPF of a MAIL FROM domain aligned so. A temporary failure of
 * anything else (an extra signature of another domain, an unaligned MAIL FROM domain whose
 * DNS stalls) cannot make DMARC pass for the From domain, so it never defers or softens a
 * verdict: a sender could otherwise turn its spoof into a 451 forever, or into a notice.
 */
export function verdictTempErrors(auth: AuthFacts): ('spf' | 'dkim' | 'dmarc')[] {
  const aligned = alignedWith(registrableDomain(auth.dmarc.fromDomain))
  const out: ('spf' | 'dkim' | 'dmarc')[] = []
  if (TEMP_RESULTS.has(auth.spf.result) && aligned(auth.spf.domain)) out.push('spf')
  if (auth.dkim.some((d) => TEMP_RESULTS.has(d.result) && aligned(d.domain))) out.push('dkim')
  if (TEMP_RESULTS.has(auth.dmarc.result)) out.push('dmarc')
  return out
}
