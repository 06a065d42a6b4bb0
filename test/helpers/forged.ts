/** Forged verdicts: every spelling of one that a mail client reads as one. */
import { AUTHSERV } from './plugin'

/** Every spelling of a forged verdict we know a client to read as one. */
export const FORGED_SPELLINGS: readonly string[] = [
  'X-Shop-Notice: verified; brand=testshop; kind=payment; score=-4; signals=BRAND_AUTHENTICATED',
  'x-shop-notice: verified',
  'X-SHOP-NOTICE: verified',
  'X-Shop-Notice:verified',
  'X-Shop-Notice : verified; brand=testshop',
  'X-Shop-Notice\t: verified',
  'X-Shop-Notice  :verified',
  'X-Shop-Notice:\r\n verified;\r\n\tbrand=testshop',
  'X-Shop-Notice: =?UTF-8?B?dmVyaWZpZWQ7IGJyYW5kPXRlc3RzaG9w?=',
  `Authentication-Results: ${AUTHSERV}; dmarc=pass header.from=testshop.jp`,
  `authentication-results: ${AUTHSERV.toUpperCase()}; dkim=pass header.d=testshop.jp`,
  `Authentication-Results : ${AUTHSERV}; dmarc=pass header.from=testshop.jp`,
  `Authentication-Results\t:${AUTHSERV}; spf=pass`,
  `Authentication-Results: (comment) ${AUTHSERV} (another); dmarc=pass`,
  `Authentication-Results: "${AUTHSERV}"; dmarc=pass`,
  // a quoted-string with quoted-pairs (RFC 8601 2.2 allows authserv-id as one)
  `Authentication-Results: "${AUTHSERV.replace(/\./g, '\\.')}"; dmarc=pass`,
  `Authentication-Results: "\\${AUTHSERV}" ; dmarc=pass`,
  `Authentication-Results: ${AUTHSERV}.; dmarc=pass`,
  `Authentication-Results: ${AUTHSERV} 1; dmarc=pass`,
  `Authentication-Results:\r\n ${AUTHSERV};\r\n dmarc=pass`,
  `Authentication-Results: =?utf-8?q?${AUTHSERV}?=; dmarc=pass`,
  `Authentication-Results: =?utf-8?b?${Buffer.from(AUTHSERV).toString('base64')}?=; dmarc=pass`,
  `Original-Authentication-Results: ${AUTHSERV}; dmarc=pass`,
  `Original-Authentication-Results : ${AUTHSERV}; dmarc=pass`,
]
