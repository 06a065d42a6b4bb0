/**
 * Signals from the authentication results alone.
 * Pure: no Haraka, no DNS, no clock.
 */
import type { FromAuth } from '../auth/alignment.js'
import type { AuthFacts } from '../auth/authenticate.js'
import { verdictTempErrors } from '../auth/alignment.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'

/** Signals from the authentication results alone. */
function authHits(auth: AuthFacts, fromAuth: FromAuth): Hit[] {
  if (auth.source === 'unavailable') return [{ symbol: 'AUTH_UNAVAILABLE', options: [] }]
  const hits: Hit[] = []
  // only what could change the verdict (auth/alignment.ts verdictTempErrors): a temporary
  // failure of an unaligned check neither scores nor hides AUTH_NONE
  const temp = verdictTempErrors(auth)
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
  // no DMARC verdict, but an identity aligned with the From domain passed (relaxed, as DMARC aligns)
  if (fromAuth.result === 'pass' && fromAuth.method !== 'dmarc') hits.push({ symbol: 'AUTH_ALIGNED_PASS', options: [fromAuth.domain ?? '-', fromAuth.method ?? '-'] })
  if (auth.spf.result === 'fail') hits.push({ symbol: 'AUTH_SPF_FAIL', options: [auth.spf.domain ?? '-'] })
  if (auth.spf.result === 'softfail') hits.push({ symbol: 'AUTH_SPF_SOFTFAIL', options: [auth.spf.domain ?? '-'] })
  if (!temp.length && auth.spf.result !== 'pass' && !auth.dkim.some((d) => d.result === 'pass')) {
    hits.push({ symbol: 'AUTH_NONE', options: [] })
  }
  return hits
}

export const authDetector: Detector = (c) => authHits(c.auth, c.fromAuth)
