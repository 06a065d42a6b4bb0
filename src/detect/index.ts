/**
 * Detect: pure functions from message facts to named hits (verdict/symbols.ts), one
 * file per family. No Haraka, no DNS, no clock in here. Each hit carries options that
 * explain it.
 */
import type { AuthFacts } from '../auth/authenticate.js'
import type { MessageFacts } from '../message/parse.js'
import type { Hit } from '../verdict/symbols.js'
import { attachmentDetector } from './attachment.js'
import { authDetector } from './auth.js'
import { callbackDocumentDetector } from './callback.js'
import { brandDetector } from './claim.js'
import { contentDetector } from './content.js'
import { type Context, type Detector, type Knowledge, contextOf } from './context.js'
import { domainDetector } from './domain.js'
import { incidentHits } from './incident.js'
import { linkDetector } from './link.js'
import { noticeDetector } from './notice.js'
import { recipientDetector } from './recipient.js'
import { senderDetector } from './sender.js'

export type { Context, Detector, Knowledge }
export { claimAwaitsDns } from './claim.js'
export { type MemorySubject, type RecipientMemory, memoryHits, memorySubject } from './notice.js'

/** Every detector family, in the order their hits are listed. */
const DETECTORS: readonly Detector[] = [
  authDetector,
  brandDetector,
  domainDetector,
  linkDetector,
  senderDetector,
  recipientDetector,
  attachmentDetector,
  contentDetector,
  callbackDocumentDetector,
  noticeDetector,
]

/**
 * Runs the detectors over one message: the context they shared, and their hits in order;
 * then the brand's promises and incidents, which read what the others found (incident.ts).
 */
export function detect(
  facts: MessageFacts,
  auth: AuthFacts,
  knowledge: Knowledge,
  envelopeFrom?: string,
  now?: Date,
  envelopeRecipients?: readonly string[],
): { context: Context; hits: Hit[] } {
  const context = contextOf(facts, auth, knowledge, envelopeFrom, now, envelopeRecipients)
  const hits = DETECTORS.flatMap((d) => d(context))
  return { context, hits: [...hits, ...incidentHits(context, hits)] }
}
