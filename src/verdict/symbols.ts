/**
 * The signal vocabulary. Detectors emit these names; configuration owns the
 * scores (`[scores] NAME = n` in shop-notice.ini overrides `score` here).
 * Every symbol is documented in docs/signals.md.
 */

export interface SymbolDef {
  readonly group: 'AUTH' | 'BRAND' | 'DOMAIN' | 'LINK' | 'SENDER' | 'ATTACHMENT' | 'CONTENT' | 'NOTICE' | 'SCAN'
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
  BRAND_CLAIM_FOREIGN_SENDER: {
    group: 'BRAND',
    score: 3,
    description:
      'A notice names a registered brand in its subject, its first lines or its links, but comes from a domain that is not the brand\'s (a weaker claim than the display name; forwarded mail is exempt).',
  },
  BRAND_PROMISE_ATTACHMENTS: {
    group: 'BRAND',
    score: 4,
    description: 'The claimed brand promises `attachments: never`, and this notice carries an attachment.',
  },
  BRAND_PROMISE_HTTPS: {
    group: 'BRAND',
    score: 2,
    description: 'The claimed brand promises `links: https-only`, and this notice has an http:// link.',
  },
  BRAND_PROMISE_ORDER_NUMBER: {
    group: 'BRAND',
    score: 3,
    description: 'The notice shows an order number that does not have the shape of the claimed brand\'s order numbers.',
  },
  DOMAIN_LOOKALIKE_FROM: {
    group: 'DOMAIN',
    score: 6,
    description:
      'The From domain imitates a registered brand domain: the brand\'s name inside another registrable domain, a Unicode confusable (UTS #39 skeleton) or a small edit distance.',
  },
  DOMAIN_LOOKALIKE_LINK: {
    group: 'DOMAIN',
    score: 5,
    description: 'A link goes to a domain that imitates a registered brand domain (as DOMAIN_LOOKALIKE_FROM).',
  },
  DOMAIN_IDN_MIXED_SCRIPT: {
    group: 'DOMAIN',
    score: 4,
    description:
      'The From domain or a link domain is an IDN (punycode) whose label mixes scripts that no real name mixes (Latin with Cyrillic or Greek…).',
  },
  LINK_TEXT_MISMATCH: {
    group: 'LINK',
    score: 3,
    description: 'An HTML link shows one domain in its text and goes to another registrable domain.',
  },
  LINK_HTTP: {
    group: 'LINK',
    score: 1,
    description: 'A notice links with plain http://, in its HTML or its text.',
  },
  LINK_IP: {
    group: 'LINK',
    score: 4,
    description: 'A link goes to a bare IP address instead of a domain name.',
  },
  LINK_SHORTENER: {
    group: 'LINK',
    score: 2,
    description: 'A notice links through a public URL shortener, which hides where the link goes.',
  },
  LINK_OFF_BRAND: {
    group: 'LINK',
    score: 3,
    description:
      'A notice claiming a registered brand links to domains that are not the brand\'s (nor neutral sites, redirectors or the mailing list that carried it).',
  },
  LINK_NO_BRAND_LINK: {
    group: 'LINK',
    score: 2,
    description:
      'A notice claiming a registered brand links somewhere, but not once to the brand itself: genuine notices link to the brand\'s own site (adds to LINK_OFF_BRAND).',
  },
  LINK_ALL_ON_BRAND: {
    group: 'LINK',
    score: -1,
    description: 'Every link of a notice claiming a registered brand goes to the brand\'s own domains (or neutral sites).',
  },
  SENDER_DISPLAY_NAME_ADDRESS: {
    group: 'SENDER',
    score: 3,
    description: 'The From display name holds an e-mail address whose domain is not the From address\'s.',
  },
  SENDER_LOOKALIKE_NAME: {
    group: 'SENDER',
    score: 4,
    description:
      'A word of the display name or of the address\'s local part imitates a registered brand\'s name without being it (amazom, Aamzon, paypa1): a typo no brand makes in its own name.',
  },
  SENDER_REPLY_TO_OFF_BRAND: {
    group: 'SENDER',
    score: 3,
    description: 'A notice claiming a registered brand asks for replies to a domain that is not the brand\'s.',
  },
  SENDER_REPLY_TO_FREEMAIL: {
    group: 'SENDER',
    score: 2,
    description: 'A notice asks for replies to a free-mail address, while it is not sent from that free-mail provider.',
  },
  SENDER_FREEMAIL: {
    group: 'SENDER',
    score: 2,
    description: 'A notice is sent from a free-mail address: shops and payment brands send from their own domains.',
  },
  SENDER_ENVELOPE_OFF_BRAND: {
    group: 'SENDER',
    score: 1,
    description: 'The envelope sender (MAIL FROM) of a notice claiming a registered brand is outside the brand\'s domains.',
  },
  ATTACHMENT_RISKY: {
    group: 'ATTACHMENT',
    score: 5,
    description:
      'A notice carries an archive, an executable or script, an HTML file, a disk image or a macro document (a double extension such as invoice.pdf.exe counts by its last one).',
  },
  ATTACHMENT_ON_NOTICE: {
    group: 'ATTACHMENT',
    score: 2,
    description: 'A notice carries a document attachment (PDF, office document, unknown type); pictures shown inline do not count.',
  },
  CONTENT_CARD_DATA_REQUEST: {
    group: 'CONTENT',
    score: 4,
    description:
      'The text asks for a card number, security code, PIN, bank account or identity document: a sentence holds both the item and a request, and no reassurance ("we will never ask…").',
  },
  CONTENT_CREDENTIAL_REQUEST: {
    group: 'CONTENT',
    score: 2,
    description:
      'The text asks for a password, a one-time code or other sign-in secrets (a sentence with the item and a request, no reassurance); weighs less than card data, since reset mail talks about passwords too.',
  },
  CONTENT_DETAILS_MISSING: {
    group: 'CONTENT',
    score: 2,
    description: 'A payment, order or card-usage notice with no order number, no amount and no item: the details genuine notices carry.',
  },
  CONTENT_CALLBACK_NUMBER: {
    group: 'CONTENT',
    score: 3,
    description:
      'A notice gives a telephone number to call, with words asking the reader to ring it (callback phrases of the phrase book): the callback lure of fake renewals and charges.',
  },
  CONTENT_SIMPLIFIED_CHINESE: {
    group: 'CONTENT',
    score: 4,
    description: 'Japanese text holds simplified-Chinese characters that Japanese never uses (确认, 订单, 账户…): machine-made.',
  },
  CONTENT_OBFUSCATED: {
    group: 'CONTENT',
    score: 4,
    description:
      'The subject or display name hides characters to dodge filters: invisible code points (zero-width, variation selectors) outside emoji, or stray combining marks.',
  },
  NOTICE_FIRST_CONTACT: {
    group: 'NOTICE',
    score: 0,
    description:
      'The first authenticated notice of this brand (or, for a shop outside the registry, of this authenticated organisational domain) that the store remembers for a recipient of the message. Informational: a client may say so (docs/store.md).',
  },
  NOTICE_PERSONAL_DATA: {
    group: 'NOTICE',
    score: 0,
    description:
      'The notice carries a person\'s postal address or phone number where notices write their customer\'s (a shipping or billing block, next to the greeting; options say postal, phone). Informational.',
  },
  NOTICE_OTHER_ADDRESSEE: {
    group: 'NOTICE',
    score: 0,
    description:
      'The greeting addresses a person by a name that none of a recipient\'s earlier authenticated notices used (and it has some): a misdirected notice, as when someone mistypes their address at a shop. Informational.',
  },
  SCAN_TRUNCATED: {
    group: 'SCAN',
    score: 0,
    description: 'The message is larger than [limits] max_scan_bytes, or has more than 1,000 MIME parts: only its headers and beginning were read.',
  },
} as const satisfies Record<string, SymbolDef>

export type SymbolName = keyof typeof SYMBOLS

export const isSymbolName = (name: string): name is SymbolName => Object.hasOwn(SYMBOLS, name)

/**
 * Composites, declared: when `when` fired, the weight of `removes` is taken off (the
 * removed symbols are listed in the options of `when`). A brand's own authenticated
 * mail legitimately uses click trackers, http links and documents.
 */
export const COMPOSITES: readonly { readonly when: SymbolName; readonly removes: readonly SymbolName[]; readonly why: string }[] = [
  {
    when: 'BRAND_AUTHENTICATED',
    removes: [
      'LINK_OFF_BRAND',
      'LINK_NO_BRAND_LINK',
      'LINK_SHORTENER',
      'LINK_TEXT_MISMATCH',
      'LINK_HTTP',
      'SENDER_ENVELOPE_OFF_BRAND',
      'SENDER_REPLY_TO_OFF_BRAND',
      'CONTENT_DETAILS_MISSING',
      'CONTENT_CALLBACK_NUMBER',
      'ATTACHMENT_ON_NOTICE',
    ],
    why: 'the brand authenticated the message: its own trackers, redirectors, reply addresses, call centre numbers and documents are not held against it',
  },
]

/** One detector hit: a symbol and the options that explain it (`amazon:dmarc=fail`). */
export interface Hit {
  readonly symbol: SymbolName
  readonly options: readonly string[]
}
