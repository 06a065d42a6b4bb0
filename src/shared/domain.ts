/**
 * Small helpers shared by every stage: the bottom of the import graph.
 */
import { getDomain } from 'tldts'

/**
 * The registrable (organisational) domain of a host name, lower case; a name with no
 * public suffix known (an IP address, a bare name) stands for itself. Undefined in, undefined out.
 */
export const registrableDomain = (d: string | undefined): string | undefined =>
  d ? (getDomain(d.toLowerCase(), { allowPrivateDomains: true }) ?? d.toLowerCase()) : undefined

/** Relaxed (DMARC) alignment with the organisational domain `org`: does `domain` belong to it? */
export const alignedWith =
  (org: string | undefined) =>
  (domain: string | undefined): boolean =>
    !!org && registrableDomain(domain) === org

/**
 * The end of a message's header block, at its first empty line (CRLF or LF endings):
 * `head` is where the block's last line break begins, `body` where the body starts.
 * Undefined when there is no empty line.
 */
export function headerBlock(raw: Buffer): { head: number; body: number } | undefined {
  const crlf = raw.indexOf('\r\n\r\n')
  const lf = raw.indexOf('\n\n')
  if (crlf < 0 && lf < 0) return undefined
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { head: crlf, body: crlf + 4 }
  return { head: lf, body: lf + 2 }
}
