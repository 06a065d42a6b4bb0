/**
 * The signal vocabulary. Detectors emit these names; configuration owns the
 * scores (`[scores] NAME = n` in shop-notice.ini overrides `score` here).
 * Every symbol is documented in docs/signals.md.
 */

export interface SymbolDef {
  readonly group: 'AUTH' | 'BRAND' | 'SCAN'
  readonly score: number
  readonly description: string
}

export const SYMBOLS = {
  AUTH_DMARC_PASS: {
    group: 'AUTH',
    score: -1,
    description: 'DMARC passed with an aligned SPF or DKIM identity for the From domain.',
  },
  AUTH_DMARC_FAIL: {
    group: 'AUTH',
    score: 3,
    description: 'DMARC failed and the From domain publishes p=none (monitoring only).',
  },
  AUTH_DMARC_FAIL_ENFORCED: {
    group: 'AUTH',
    score: 6,
    description: 'DMARC failed and the From domain asks receivers to quarantine or reject such mail.',
  },
  AUTH_DMARC_MISSING: {
    group: 'AUTH',
    score: 1,
    description: 'The From domain publishes no DMARC record.',
  },
  AUTH_SPF_FAIL: {
    group: 'AUTH',
    score: 2,
    description: 'SPF hard fail (-all) for the envelope sender.',
  },
  AUTH_SPF_SOFTFAIL: {
    group: 'AUTH',
    score: 1,
    description: 'SPF soft fail (~all) for the envelope sender.',
  },
  AUTH_NONE: {
    group: 'AUTH',
    score: 2,
    description: 'Neither SPF nor any DKIM signature passed: nothing authenticates the sender.',
  },
  AUTH_DNS_TEMPFAIL: {
    group: 'AUTH',
    score: 0.5,
    description:
      'A DNS lookup failed temporarily (timeout, SERVFAIL): some results are temperror. Never treated as a failure (RFC 7489 6.6.2).',
  },
  AUTH_UNAVAILABLE: {
    group: 'AUTH',
    score: 0,
    description: 'Authentication was not performed (offline scan without a trusted Authentication-Results header).',
  },
  BRAND_NOT_AUTHENTICATED: {
    group: 'BRAND',
    score: 6,
    description:
      'The message claims a registered brand, but no aligned DMARC pass comes from one of that brand\'s sending domains (even when the brand publishes p=none).',
  },
  BRAND_AUTHENTICATED: {
    group: 'BRAND',
    score: -3,
    description: 'The claimed registered brand is authenticated: aligned DMARC pass from one of its sending domains.',
  },
  BRAND_DISPLAY_NAME_MISMATCH: {
    group: 'BRAND',
    score: 2,
    description: 'The From display name names a registered brand that the From address domain does not belong to.',
  },
  SCAN_TRUNCATED: {
    group: 'SCAN',
    score: 0,
    description: 'The message is larger than [limits] max_scan_bytes: only its headers and first part were read.',
  },
} as const satisfies Record<string, SymbolDef>

export type SymbolName = keyof typeof SYMBOLS

export const isSymbolName = (name: string): name is SymbolName => Object.hasOwn(SYMBOLS, name)

/** One detector hit: a symbol and the options that explain it (`amazon:dmarc=fail`). */
export interface Hit {
  readonly symbol: SymbolName
  readonly options: readonly string[]
}
