/**
 * SENDER_NAME_RECIPIENT_DOMAIN, table-driven: a sender whose display name names the recipient's
 * own domain, from another organisation, linking to a third domain (the recipient's own mail
 * provider impersonated: maintenance, mailbox upgrade, quota, password expiry). The recipients
 * are the envelope's when the scan is given them, else the To and Cc headers. Hard negatives:
 * a colleague, a colleague's personal mailbox, a mailing list, a platform speaking for its
 * customer, a forward, the provider's own mail, a free-mail recipient. Every message is made here.
 */
import t from 'tap'

import { recipientPose } from '../../dist/src/detect/recipient.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { scan } from '../../dist/src/scan.js'
import { mailbox, makeMessage } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const settings = testSettings()
const SYMBOL = 'SENDER_NAME_RECIPIENT_DOMAIN'

interface Case {
  name: string
  from: string
  to?: string
  /** the envelope recipients (RCPT TO), as the relay gives them */
  rcpt?: string[]
  subject: string
  body?: string
  html?: string
  headers?: string[]
  fires: boolean
  /** the options the hit carries, when it fires */
  options?: RegExp
  verdict?: string | string[]
}

const cases: Case[] = [
  // --- the lures ---
  {
    name: 'Japanese maintenance notice from a display name that is the recipient\'s domain, link elsewhere carrying the address',
    from: mailbox('mail.corp-example.co.jp', 'info@maint-451.co.jp'),
    to: 'taro@corp-example.co.jp',
    subject: '【バージョンアップ】メンテナンス作業のお知らせ',
    body: 'お客様各位\n\nサーバーのメンテナンスを実施しています。\n以下のリンクからサービスをアップグレードしてください。\nhttps://upgrade-webmail.example.net/jp/op?uid=taro@corp-example.co.jp\n',
    fires: true,
    options: /^corp-example\.co\.jp,via=domain,from=maint-451\.co\.jp,example\.net$/,
    verdict: ['suspicious', 'spoofed'],
  },
  {
    name: '"example.com IT Support" from an unrelated domain: mailbox almost full',
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to: 'Jane <jane@example.com>',
    subject: 'Mailbox storage almost full',
    html: '<p>Your mailbox has reached 98% of its quota.</p><p><a href="https://quota-restore-site.net/increase">Increase storage now</a></p>',
    fires: true,
    verdict: ['suspicious', 'spoofed'],
  },
  {
    name: '"Mail Administrator for example.com": password expiry',
    from: mailbox('Mail Administrator for example.com', 'no-reply@admin-notify.net'),
    to: 'jane@example.com',
    subject: 'Password expiry notice',
    body: 'The password for jane@example.com expires today. Keep the same password: https://keep-password-site.net/?u=jane%40example.com\n',
    fires: true,
    verdict: ['suspicious', 'spoofed'],
  },
  {
    name: 'the domain\'s name alone ("Example IT Support") on an account notice',
    from: mailbox('Example IT Support', 'it@secure-desk.net'),
    to: 'jane@example.com',
    subject: 'Verify your account before it is suspended',
    body: 'Verify your account within 24 hours: https://secure-desk-verify-site.net/login\n',
    fires: true,
    options: /^example\.com,via=label,/,
    verdict: ['suspicious', 'spoofed'],
  },
  {
    name: 'the domain\'s name alone, no account wording, but the link carries the recipient\'s address',
    from: mailbox('Example Mail', 'no-reply@mx-verify.net'),
    to: 'jane@example.com',
    subject: 'Action required',
    body: 'Messages are waiting for you: https://portal.mx-verify-login-site.net/?email=jane%40example.com\n',
    fires: true,
  },
  {
    name: 'a link to a bare IP address is elsewhere too',
    from: mailbox('example.com Webmail', 'info@notice-mail.net'),
    to: 'jane@example.com',
    subject: 'Scheduled maintenance',
    body: 'Upgrade your webmail before Friday: http://198.51.100.7/upgrade\n',
    fires: true,
  },
  // --- the recipients: the envelope's when the relay knows them ---
  {
    name: 'the envelope recipient counts when the To header names nobody',
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to: 'undisclosed-recipients:;',
    rcpt: ['jane@example.com'],
    subject: 'Mailbox storage almost full',
    body: 'Increase storage now: https://quota-restore-site.net/increase\n',
    fires: true,
  },
  {
    name: 'without the envelope, and no addressee in the headers: nothing to compare',
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to: 'undisclosed-recipients:;',
    subject: 'Mailbox storage almost full',
    body: 'Increase storage now: https://quota-restore-site.net/increase\n',
    fires: false,
  },
  {
    name: 'the envelope outranks the headers: To names example.com, the relay delivers to another domain',
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to: 'jane@example.com',
    rcpt: ['bob@othercorp.net'],
    subject: 'Mailbox storage almost full',
    body: 'Increase storage now: https://quota-restore-site.net/increase\n',
    fires: false,
  },
  // --- hard negatives ---
  {
    name: 'hard negative: a colleague, whose display name carries the company domain',
    from: mailbox('Taro Yamada (example.com)', 'taro@example.com'),
    to: 'jane@example.com',
    subject: 'Article for Monday',
    body: 'Worth reading before the meeting: https://news-site.net/2026/11/story\n',
    fires: false,
  },
  {
    name: 'hard negative: a colleague from a personal mailbox, with the company name and a link elsewhere',
    from: mailbox('Taro Yamada (Example)', 'taro.yamada@gmail.com'),
    to: 'jane@example.com',
    subject: 'Slides from the conference',
    body: 'Here are the slides: https://slides-site.net/deck/42\n',
    fires: false,
  },
  {
    name: 'hard negative: a mailing list writing its own address into From (DMARC mitigation)',
    from: mailbox("'Taro Yamada' via example.com staff", 'staff@lists.listhost.net'),
    to: 'staff@lists.listhost.net',
    rcpt: ['jane@example.com'],
    headers: ['List-Id: example.com staff <staff.lists.listhost.net>'],
    subject: '[staff] Password reset day on Friday',
    body: 'Reminder: verify your account settings before Friday, see https://intranet-howto-site.net/passwords\n',
    fires: false,
  },
  {
    name: 'hard negative: a platform speaking for the recipient\'s company ("Example Corp via Slack")',
    from: mailbox('Example Corp via Slack', 'notification@slack.com'),
    to: 'jane@example.com',
    subject: 'Your account: new sign-in to the Example Corp workspace',
    body: 'A new sign-in to your account: https://example-corp.slack.com/account\nDetails: https://slack-redir.net/link?url=https%3A%2F%2Fslack.com%2Fhelp\n',
    fires: false,
  },
  {
    name: 'hard negative: the word of the recipient\'s domain is the sender\'s own name (Example Credit Union at examplecu.net)',
    from: mailbox('Example Credit Union', 'alerts@examplecu.net'),
    to: 'jane@example.com',
    subject: 'Your online banking password was changed',
    body: 'Your password was changed. Sign in: https://pioneercu.digitalbanking-host.example/login\n',
    fires: false,
  },
  {
    name: 'hard negative: a benefits administrator under the employer\'s name, linking to the employer-named portal',
    from: mailbox('Example Benefits Center', 'noreply@benefitbridge.net'),
    to: 'dana@example.com',
    subject: 'Open enrollment ends Friday: confirm your account elections',
    body: 'Sign in to review your elections: https://example-benefits.com/login\n',
    fires: false,
  },
  {
    name: 'a portal only containing the word inside another word is elsewhere (examplesecure.com)',
    from: mailbox('Example Mail Administrator', 'noreply@pw-notice.net'),
    to: 'dana@example.com',
    subject: 'Your mailbox password expires today',
    body: 'Keep your password: https://examplesecure.com/keep\n',
    fires: true,
  },
  {
    name: 'the domain written out still counts when the sender\'s domain starts with its word',
    from: mailbox('example.com IT Support', 'it@examplecorp-helpdesk.net'),
    to: 'jane@example.com',
    subject: 'Your account password expires today',
    body: 'Keep your password: https://keep-password-now.example/keep\n',
    fires: true,
  },
  {
    name: 'hard negative: a forwarded announcement',
    from: mailbox('Taro (example.com)', 'taro@gmail.com'),
    to: 'jane@example.com',
    subject: 'Fwd: Scheduled maintenance of example.com mail',
    body: '---------- Forwarded message ---------\nThe webmail will be upgraded on Friday, details: https://status.hostingco.example.net/\n',
    fires: false,
  },
  {
    name: 'hard negative: the provider\'s own mail, from the recipient\'s domain, linking to its status page',
    from: mailbox('example.com Mail Administrator', 'postmaster@example.com'),
    to: 'jane@example.com',
    subject: 'Scheduled maintenance: your account will be unavailable',
    body: 'Webmail will be upgraded on Friday night. Status: https://status.hostingco.example.net/\n',
    fires: false,
  },
  {
    name: 'hard negative: the hosting company names its customer\'s domain and links only to its own site',
    from: mailbox('HostingCo notices for example.com', 'support@hostingco.net'),
    to: 'jane@example.com',
    subject: 'Your account: disk quota at 90%',
    body: 'The mailbox quota of example.com is at 90%. Manage it at https://panel.hostingco.net/\n',
    fires: false,
  },
  {
    name: 'hard negative: a hosting company naming its customer\'s domain in its name and its own in the name too',
    from: mailbox('example.com at hostingco.net', 'noreply@hostingco.net'),
    to: 'jane@example.com',
    subject: 'Your account: renewal reminder',
    body: 'Renew at https://billing-portal-site.net/renew\n',
    fires: false,
  },
  {
    name: 'hard negative: the domain\'s name alone, not an account notice, no address in the link (a benefits platform)',
    from: mailbox('Example Perks', 'perks@perkplatform.net'),
    to: 'jane@example.com',
    subject: 'This month\'s offers',
    body: 'New offers this month: https://offers.perks-cdn-site.net/march\n',
    fires: false,
  },
  {
    name: 'hard negative: a free-mail provider is no organisation its users belong to',
    from: mailbox('Gmail Team', 'no-reply@accounts.google.com'),
    to: 'jane@gmail.com',
    subject: 'Your account: security tips',
    body: 'Review your settings: https://support.google.com/mail and read https://gmail.googleblog.com/\n',
    fires: false,
  },
  {
    name: 'hard negative: from one recipient\'s domain, naming another recipient\'s (a colleague writing to a partner)',
    from: mailbox('Jane Doe (partner.net project)', 'jane@example.com'),
    to: 'bob@partner.net, team@example.com',
    subject: 'Kick-off notes',
    body: 'Notes are on the wiki: https://wiki-site.net/kickoff\n',
    fires: false,
  },
  {
    name: 'hard negative: the display name names the domain but every link is the recipient\'s own',
    from: mailbox('example.com helpdesk (outsourced)', 'tickets@desk-vendor.net'),
    to: 'jane@example.com',
    subject: 'Ticket 4411 updated',
    body: 'See the ticket on the intranet: https://intranet.example.com/tickets/4411\n',
    fires: false,
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const raw = makeMessage({ from: c.from, to: c.to, subject: c.subject, body: c.body ?? '', html: c.html, extraHeaders: c.headers })
    const r = await scan(raw, { recipients: c.rcpt }, { settings, authservId: 'mx.test.example', now: new Date('2026-11-21T00:00:00Z') })
    const hit = r.hits.find((h) => h.symbol === SYMBOL)
    const why = `signals ${r.hits.map((h) => `${h.symbol}(${h.options.join(',')})`).join(' ')}, score ${r.score}, verdict ${r.verdict}`
    t.equal(!!hit, c.fires, `${SYMBOL} ${c.fires ? 'fires' : 'does not fire'} (${why})`)
    if (hit && c.options) t.match(hit.options.join(','), c.options, 'options')
    if (c.verdict !== undefined) {
      const allowed = Array.isArray(c.verdict) ? c.verdict : [c.verdict]
      t.ok(allowed.includes(r.verdict), `verdict ${r.verdict} in ${allowed.join('|')} (${why})`)
    }
    if (!c.fires) t.not(r.verdict, 'suspicious', 'a genuine message is not flagged by it')
  })
}

t.test('recipientPose: the pure function, recipients given directly', async (t) => {
  const raw = makeMessage({
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to: 'someone@elsewhere.example.net',
    subject: 'Mailbox storage almost full',
    body: 'https://quota-restore-site.net/increase and https://twitter.com/status\n',
  })
  const facts = await readMessage(raw, 1 << 20)
  const domains = settings.domains
  const pose = recipientPose({ facts, recipients: ['jane@example.com'], accountNotice: false, forwarded: false }, domains)
  t.same(pose, { domain: 'example.com', how: 'domain', elsewhere: ['quota-restore-site.net'] }, 'a neutral site is not elsewhere')
  t.equal(recipientPose({ facts, recipients: ['jane@example.com'], accountNotice: false, forwarded: true }, domains), undefined, 'a forward')
  t.equal(recipientPose({ facts, recipients: [], accountNotice: true, forwarded: false }, domains), undefined, 'no recipients')
  t.equal(recipientPose({ facts, recipients: ['jane@mbx-services.net'], accountNotice: true, forwarded: false }, domains), undefined, 'the sender\'s own domain')
})
