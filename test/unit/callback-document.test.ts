/**
 * CONTENT_CALLBACK_DOCUMENT, table-driven: the callback-invoice lure (a payment or order message that
 * is only a document and a "support" telephone number, from a sender that does not say who it is)
 * and the small businesses that send their invoice as a PDF with their number (hard negatives).
 * Every message is made here.
 */
import t from 'tap'

import { UNAVAILABLE } from '../../dist/src/auth/authenticate.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { decide } from '../../dist/src/scan.js'
import { mailbox, makeMessage } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const settings = testSettings()
const SYMBOL = 'CONTENT_CALLBACK_DOCUMENT'
const PDF = { filename: 'Invoice_1767971392.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4\n%%EOF\n') }

interface Case {
  name: string
  from: string
  subject: string
  body: string
  html?: string
  attachments?: { filename: string; contentType: string; content: Buffer }[]
  fires: boolean
  options?: string[]
  verdict?: string[]
}

const cases: Case[] = [
  // --- the lures ---
  {
    name: 'an unrelated hijacked mailbox: "Invoice and details enclosed. Phone Support: +1 …", no notice words in the subject',
    from: mailbox('Beloningen', 'gyorgy.kiss@northfield-dental.com'),
    subject: 'Thank you for paying for order ID Acknowledgement',
    body: 'Thank you for choosing us,. Invoice and details enclosed. 2026-11-09-Phone\nSupport: +1(808) 555-0142\n',
    fires: true,
    options: ['+1(808) 555-0142', 'support'],
    verdict: ['suspicious', 'spoofed'],
  },
  {
    name: '"Support Desk Contact:" on a payment update, the name a mailbox\'s',
    from: mailbox('Monitoria 1', 'monitoria1@escola-aurora.com.br'),
    subject: 'Order Bill payment update received',
    body: 'Please keep this email for your records,. Invoice enclosed.\n2026-11-13-Support Desk Contact: +1 (970) 555-0199\n',
    fires: true,
    verdict: ['suspicious', 'spoofed'],
  },
  {
    name: 'a hotline from a free mailbox whose owner the message never names, a Word document',
    from: mailbox('Billing Department', 'jmarsh1987@gmail.com'),
    subject: 'Your payment receipt',
    body: 'Attached is your receipt. Customer Service Hotline Number: +1 (888) 555-0117\n',
    attachments: [{ filename: 'Receipt_55821.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', content: Buffer.from('PK') }],
    fires: true,
    verdict: ['suspicious', 'spoofed'],
  },
  // --- hard negatives: small businesses invoicing as they do ---
  {
    name: 'hard negative: "Please find attached invoice 1043. Acme Plumbing, 555-123-4567"',
    from: mailbox('Acme Plumbing', 'billing@acmeplumbing.com'),
    subject: 'Invoice 1043',
    body: 'Please find attached invoice 1043.\n\nAcme Plumbing, 555-123-4567\n',
    fires: false,
  },
  {
    name: 'hard negative: "call us at" is how a business gives its number, not a support label',
    from: mailbox('Rosa Delgado', 'rosa@delgado-cleaning.com'),
    subject: 'Your invoice for November',
    body: 'Hi Sam, your invoice for November is attached. Questions? Call us at 555-123-4567. Thanks, Rosa\n',
    fires: false,
  },
  {
    name: 'hard negative: an IT firm\'s support line, its name in the signature',
    from: mailbox('Accounts', 'accounts@brightline-it.com'),
    subject: 'Invoice 2231',
    body: 'Invoice 2231 is attached.\nBrightline IT Support: 555-123-4567\n',
    fires: false,
  },
  {
    name: 'hard negative: a person writes for her firm, whose domain carries her surname',
    from: mailbox('Dana Whitfield', 'dana@whitfield-tax.com'),
    subject: 'Invoice for your 2025 return',
    body: 'Hi Sam, your invoice is attached. Support: 555-123-4567. Dana Whitfield\n',
    fires: false,
  },
  {
    name: 'hard negative: a free mailbox whose owner signs with the name of the address',
    from: mailbox('Handyman Joe', 'joeshandyman@gmail.com'),
    subject: 'Invoice for the deck repair',
    body: 'Invoice attached, thanks for the work! Joe\'s Handyman - support line 555-123-4567\n',
    fires: false,
  },
  {
    name: 'hard negative: a link to pay online (the lure has none)',
    from: mailbox('Northwind Billing', 'noreply@billing-portal-services.com'),
    subject: 'Your invoice is ready',
    body: 'Your invoice is attached. Pay online: https://pay.example.com/inv/88. Phone Support: 555-123-4567\n',
    fires: false,
  },
  {
    name: 'hard negative: a full statement, longer than a line or two',
    from: mailbox('Statements', 'statements@harborview-utilities.com'),
    subject: 'Your November statement',
    body: `Your November statement is attached.
Account number: 4471-2201
Amount due: $84.20 by December 15, 2026
Usage this month: 412 kWh, 8% less than last November.
Autopay is on: the amount will be taken from your checking account ending in 4410.
Phone Support: 555-123-4567 (Monday to Friday, 8am to 6pm)
`,
    fires: false,
  },
  {
    name: 'hard negative: no payment or order words anywhere',
    from: mailbox('Beloningen', 'gyorgy.kiss@northfield-dental.com'),
    subject: 'Minutes of the meeting',
    body: 'Minutes attached. Phone Support: +1 (808) 555-0142\n',
    attachments: [{ filename: 'minutes.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4') }],
    fires: false,
  },
  {
    name: 'hard negative: no document attached',
    from: mailbox('Beloningen', 'gyorgy.kiss@northfield-dental.com'),
    subject: 'Thank you for paying for order ID Acknowledgement',
    body: 'Thank you for choosing us. Invoice and details enclosed. Phone Support: +1 (808) 555-0142\n',
    attachments: [],
    fires: false,
  },
  {
    name: 'a registered brand claimed: the brand signals judge it, not this one',
    from: mailbox('PayPal Billing', 'gyorgy.kiss@northfield-dental.com'),
    subject: 'Your PayPal payment receipt',
    body: 'Invoice and details enclosed. Phone Support: +1 (808) 555-0142\n',
    fires: false,
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const raw = makeMessage({ from: c.from, subject: c.subject, body: c.body, html: c.html, attachments: c.attachments ?? [PDF] })
    const facts = await readMessage(raw, settings.limits.max_scan_bytes)
    const r = decide(facts, UNAVAILABLE, settings)
    const hit = r.hits.find((h) => h.symbol === SYMBOL)
    const why = `signals ${r.hits.map((h) => `${h.symbol}(${h.options.join(',')})`).join(' ')}, score ${r.score}, verdict ${r.verdict}`
    t.equal(!!hit, c.fires, `${SYMBOL} ${c.fires ? 'fires' : 'does not fire'} (${why})`)
    if (hit && c.options) t.same(hit.options, c.options, 'options: the number and its label')
    if (c.verdict) t.ok(c.verdict.includes(r.verdict), `verdict ${r.verdict} in ${c.verdict.join('|')} (${why})`)
  })
}
