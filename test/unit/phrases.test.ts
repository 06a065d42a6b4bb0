/** The phrase book and the text forms it is matched in. */
import fs from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import YAML from 'yaml'

import { KINDS, parsePhrases } from '../../dist/src/knowledge/phrases.js'
import { callbackNumber } from '../../dist/src/detect/content.js'
import { countDisguises, glyphsIn, hasKana, normaliseName, normaliseText } from '../../dist/src/message/text.js'
import { ROOT } from '../helpers/settings'

/** fn throws a ConfigError naming phrases.yaml and a key matching `key`. */
function refused(t: Test, fn: () => unknown, key: RegExp): void {
  try {
    fn()
    t.fail(`expected a ConfigError for ${key.source}`)
  } catch (err) {
    t.match(err, { file: 'phrases.yaml', key }, key.source)
  }
}

const shipped = () => YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'shop-notice.phrases.yaml'), 'utf8'))

t.test('the shipped phrase book is valid and covers every kind in both languages', async (t) => {
  const { value, warnings } = parsePhrases(shipped(), 'shop-notice.phrases.yaml')
  t.same(warnings, [])
  t.same(value.kinds.map((k) => k.kind), [...KINDS])
  for (const k of value.kinds) t.ok(k.phrases.length >= 5, `${k.kind} has phrases`)
  t.ok(value.simplified_chinese.has('确'))
  t.notOk(value.simplified_chinese.has('確'), 'no Japanese kanji among the simplified glyphs')
})

t.test('callback phrases and telephone numbers', async (t) => {
  const { value } = parsePhrases(shipped(), 'x')
  const found = (text: string) => callbackNumber(text, value)?.number
  t.equal(found('If you did not authorize this, call us at +1 (828) 280-7472 today.'), '+1 (828) 280-7472')
  t.equal(found('Support Line: 1 810 285-6898'), '1 810 285-6898')
  t.equal(found('Helpline Number: 844 584-4936'), '844 584-4936')
  t.equal(found('サポートセンター（0120-123-456）までお電話ください'), '0120-123-456')
  t.equal(found('Please call +44 20 7946 0958 now'), '+44 20 7946 0958')
  t.equal(found('Order number 1820953715, call us any time'), undefined, 'ten digits without separators are an id')
  t.equal(found('Invoice 2025-04-15, support line open'), undefined, 'a date is no number')
  t.equal(found('Our office: 212-555-0199'), undefined, 'a number with no request to call')
})

t.test('ordinary contact words make a callback lure only with a reason to ring', async (t) => {
  const { value } = parsePhrases(shipped(), 'x')
  const found = (text: string) => callbackNumber(text, value)?.number
  const cases: Array<[string, string | undefined, string]> = [
    // lures: a contact phrase and why to ring
    ['To cancel this renewal, contact our billing department at 808-555-0143.', '808-555-0143', 'call to cancel'],
    ['If you did not authorize this charge, call us at (808) 555-0143.', '(808) 555-0143', 'did not authorise'],
    ['To dispute the payment, please call 1-808-555-0143.', '1-808-555-0143', 'call to dispute'],
    ['Did not make this purchase? Reach us at +1 808 555 0143 for a refund.', '+1 808 555 0143', 'refund'],
    ['Your subscription was renewed. Questions? Contact us at 808-555-0143.', '808-555-0143', 'a renewal'],
    // hard negatives: genuine invoices and orders give a number with no reason to ring
    ['If you have any questions, please contact our Billing Department at 555-123-4567 option 3.', undefined, 'a genuine invoice'],
    ['Questions about your order? Call us at 212-555-0199, Monday to Friday.', undefined, 'a shop\'s opening hours'],
    ['Customer care: 212-555-0199. Thank you for your payment.', undefined, 'a receipt'],
    ['Contact our office at 212-555-0199 to schedule your next service.', undefined, 'booking a visit'],
  ]
  for (const [text, number, why] of cases) t.equal(found(text), number, why)
  t.same(value.callback_contact.length > 0 && value.callback_reasons.length > 0, true)
  t.notOk(value.callback.includes('contact our'), 'a generic contact phrase alone is no callback request')
})

t.test('every simplified glyph is absent from Japanese: none is a JIS X 0208 kanji in common use', async (t) => {
  // kanji that Japanese and simplified Chinese share must never be listed
  const shared = '号点台体声会学国図'
  const { value } = parsePhrases(shipped(), 'x')
  for (const c of shared) t.notOk(value.simplified_chinese.has(c), `${c} is Japanese too`)
})

t.test('invalid phrase books are refused with the file and the key', async (t) => {
  const bad = (mutate: (raw: Record<string, any>) => void, key: RegExp) => {
    const raw = shipped()
    mutate(raw)
    refused(t, () => parsePhrases(raw, 'phrases.yaml'), key)
  }
  bad((r) => (r.kinds.refund = { ja: ['返金'], en: ['refund'] }), /^kinds\.refund$/)
  bad((r) => (r.kinds.order.ja = []), /^kinds\.order\.ja$/)
  bad((r) => (r.kinds.order.en = ['ok', '']), /^kinds\.order\.en\[1\]$/)
  bad((r) => delete r.kinds.payment, /^kinds\.payment$/)
  bad((r) => (r.weights.subject = -1), /^weights\.subject$/)
  bad((r) => (r.lead_chars = 1.5), /^lead_chars$/)
  bad((r) => delete r.card_data.credentials, /^card_data\.credentials$/)
  bad((r) => (r.simplified_chinese = '确a'), /^simplified_chinese$/)
  bad((r) => delete r.callback, /^callback$/)
  bad((r) => (r.callback.en = 'call us'), /^callback\.en$/)
  bad((r) => delete r.callback_reasons, /^callback_reasons$/)
  bad((r) => (r.callback_contact.en = ['']), /^callback_contact\.en\[0\]$/)
  bad((r) => delete r.card_data.negations, /^card_data\.negations$/)
  bad((r) => (r.card_data.negation_gap = 0), /^card_data\.negation_gap$/)
  bad((r) => (r.card_data.conditions.en = []), /^card_data\.conditions\.en$/)
  bad((r) => delete r.details.currency, /^details\.currency$/)
  bad((r) => (r.details.currency.after = []), /^details\.currency\.after$/)
  bad((r) => delete r.attachments, /^attachments$/)
  bad((r) => (r.attachments.risky_extensions = ['exe', 'a b']), /^attachments\.risky_extensions\[1\]$/)
  bad((r) => (r.attachments.risky_types = ['text/html', 'html']), /^attachments\.risky_types\[1\]$/)
  bad((r) => (r.attachments.document_types = []), /^attachments\.document_types$/)
  bad((r) => (r.generic_words = ['card', 'カード']), /^generic_words\[1\]$/)
  bad((r) => (r.sender_role_words = ['support', 'help desk']), /^sender_role_words\[1\]$/)
  bad((r) => delete r.sender_role_words, /^sender_role_words$/)
  refused(t, () => parsePhrases(undefined, 'phrases.yaml'), /^kinds$/)
  const extra = shipped()
  extra.colour = 'blue'
  t.match(parsePhrases(extra, 'p.yaml').warnings, [/p\.yaml: colour: unknown key/])
})

t.test('data out of code: currencies, attachment types and generic words as the admin writes them', async (t) => {
  const raw = shipped()
  raw.details.currency = { before: ['CHF'], after: ['francs'] }
  raw.attachments.risky_extensions = ['.EXE', 'iso']
  raw.attachments.risky_types = ['Application/X-Foo']
  raw.generic_words = ['Card', 'shop']
  raw.sender_role_words = ['Support', 'KUNDENDIENST']
  const { value } = parsePhrases(raw, 'p.yaml')
  t.ok(value.details.amount.test('Total: CHF 12.50'), 'a currency before the number')
  t.ok(value.details.amount.test('Total: 12 francs'), 'a currency after it')
  t.notOk(value.details.amount.test('Total: $12.50'), 'the admin\'s list replaces the shipped one')
  t.same([...value.attachments.risky_extensions], ['exe', 'iso'], 'extensions without dot, lower case')
  t.same(value.attachments.risky_types, ['application/x-foo'], 'types lower case')
  t.same([...value.generic_words], ['card', 'shop'], 'generic words lower case')
  t.same([...value.sender_role_words], ['support', 'kundendienst'], 'role words lower case, the admin\'s list replacing the shipped one')
  const shippedBook = parsePhrases(shipped(), 'p.yaml').value
  for (const [text, amount] of [
    ['ご請求額: ￥3,980', true],
    ['合計 1,000円', true],
    ['Total $12.34', true],
    ['USD 12', true],
    ['12.50 EUR', true],
    ['Order 12345', false],
  ] as const) {
    t.equal(shippedBook.details.amount.test(text.normalize('NFKC')), amount, `amount in ${JSON.stringify(text)}: ${amount}`)
  }
})

t.test('normaliseText: NFKC, case, kana, spaces, decorations and invisibles', async (t) => {
  t.equal(normaliseText('【重要】 ご注文 確認 ★'), normaliseText('ゴ注文確認').replace(/^/, '重要'))
  t.equal(normaliseText('ＯＲＤＥＲ　Ｃｏｎｆｉｒｍａｔｉｏｎ'), 'orderconfirmation')
  t.equal(normaliseText('おとどけ'), normaliseText('オトドケ'), 'hiragana and katakana are one')
  t.equal(normaliseText('ｱｶｳﾝﾄ'), normaliseText('アカウント'), 'half-width katakana')
  t.equal(normaliseText('アカ\u2061ウン\ufe09ト'), normaliseText('アカウント'), 'invisible characters go')
  t.equal(normaliseText('ᴀᴄᴄᴏᴜɴᴛ ꜱᴜꜱᴘᴇɴᴅᴇᴅ'), 'accountsuspended', 'small capitals are letters')
})

t.test('normaliseName: spaced-out names join, case kept on request', async (t) => {
  t.equal(normaliseName('三 井 住 友 カ ー ド'), '三井住友カード')
  t.equal(normaliseName('E T C 利用照会サービス'), 'etc利用照会サービス')
  t.equal(normaliseName('Yahoo! JAPAN'), 'yahoo! japan')
  t.equal(normaliseName('JCB Card', true), 'JCB Card')
})

t.test('countDisguises: invisibles outside emoji, stray combining marks', async (t) => {
  t.equal(countDisguises('plain text アカウント'), 0)
  t.equal(countDisguises('👨‍👩‍👧 ❤️ 1️⃣'), 0, 'emoji ZWJ sequences and keycaps are not disguises')
  t.equal(countDisguises('P\u200dr\u200di'), 2)
  t.equal(countDisguises('servicesܿ.ܿamzn'), 2, 'a Syriac mark on Latin letters')
})

t.test('hasKana and glyphsIn', async (t) => {
  t.ok(hasKana('ご確認'))
  t.notOk(hasKana('订单确认'))
  t.same(glyphsIn('确认确认订单', new Set(['确', '认', '订'])), ['确', '认', '订'])
})
