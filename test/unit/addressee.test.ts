/**
 * readAddressee: the greeting's names, and personal data only where a notice writes its
 * customer's (a labelled block, next to the greeting), never the shop's own footer or desk.
 */
import t from 'tap'

import { readAddressee } from '../../dist/src/message/addressee.js'
import { HOSTILE_CASES } from '../../dist/bench/lib/hostile.js'

interface Case {
  readonly name: string
  readonly text: string
  readonly names: readonly string[]
  readonly personal: readonly string[]
}

const FOOTER_JA = `
──────────────────
テストショップ株式会社
〒100-0001 東京都千代田区千代田1-1
お問い合わせ: 03-1234-5678（受付時間 10:00〜18:00）
`
const FOOTER_EN = `
--
TestShop Inc.
1200 Oak Street, Springfield, IL 62701
Customer service: (555) 123-4567
`

const CASES: readonly Case[] = [
  // names
  { name: 'ja name with 様 on its own line', text: '山田 太郎 様\n\nご注文ありがとうございます。', names: ['山田 太郎'], personal: [] },
  { name: 'ja name with 様へ', text: '山田太郎様へ\nご注文を承りました。', names: ['山田太郎'], personal: [] },
  { name: 'ja name with さま and a comma', text: 'やまだ はなこ さま、いつもありがとうございます。', names: ['やまだ はなこ'], personal: [] },
  { name: 'full-width spaces and letters', text: '　ＹＡＭＡＤＡ　Ｔａｒｏ　様\n本文', names: ['YAMADA Taro'], personal: [] },
  { name: 'en Dear', text: 'Dear Taro Yamada,\n\nThank you for your order.', names: ['Taro Yamada'], personal: [] },
  { name: 'en Hello with a title', text: 'Hello Mr. Yamada,\nYour order has shipped.', names: ['Mr. Yamada'], personal: [] },
  { name: 'en Hi', text: 'Hi Hanako!\nYour package is on its way.', names: ['Hanako'], personal: [] },
  { name: 'greeting after a header line', text: 'TestShop\nご注文確認\n\n佐藤 花子 様\n\nこの度は', names: ['佐藤 花子'], personal: [] },

  // generic greetings name nobody
  { name: 'お客様', text: 'お客様\nご注文ありがとうございます。', names: [], personal: [] },
  { name: 'お客様各位', text: 'お客様各位\n本文', names: [], personal: [] },
  { name: 'テストショップ会員様', text: 'テストショップ会員様\n本文', names: [], personal: [] },
  { name: 'Dear Customer', text: 'Dear Customer,\nYour account', names: [], personal: [] },
  { name: 'Dear Valued Customer', text: 'Dear Valued Customer,\nYour account', names: [], personal: [] },
  { name: 'Dear Sir or Madam', text: 'Dear Sir or Madam,\nYour account', names: [], personal: [] },
  { name: 'Hi there', text: 'Hi there,\nYour account', names: [], personal: [] },
  { name: 'Hello from the shop', text: 'Hello from TestShop!\nNews', names: [], personal: [] },
  { name: 'an unfilled template', text: 'Dear {name},\nYour order', names: [], personal: [] },
  { name: 'a placeholder 〇〇', text: '〇〇様\n本文', names: [], personal: [] },
  { name: 'a sentence with 様 is not a name', text: 'いつもご利用いただき誠にありがとうございます。お客様のご注文は\n', names: [], personal: [] },
  { name: 'a greeting deep in the text is not read', text: `${'本文の行です。\n'.repeat(20)}山田 太郎 様`, names: [], personal: [] },

  // personal data where a notice writes the customer's
  {
    name: 'お届け先 block: postal code, address and phone',
    text: `山田 太郎 様\n\nご注文番号: TS-2026-0001234\n\n■お届け先\n山田 太郎 様\n〒150-0001\n東京都渋谷区神宮前1-2-3\n電話番号: 090-1234-5678\n\n■お支払い\nクレジットカード${FOOTER_JA}`,
    names: ['山田 太郎'],
    personal: ['postal', 'phone'],
  },
  {
    name: 'address on the label line itself',
    text: 'お届け先：〒530-0001 大阪府大阪市北区梅田1-1-1\n\n以上',
    names: [],
    personal: ['postal'],
  },
  {
    name: 'prefecture and city without a postal code',
    text: '【配送先】\n神奈川県横浜市中区1-2\n佐藤 花子 様\n',
    names: [],
    personal: ['postal'],
  },
  {
    name: 'full-width digits and a long-vowel dash in a phone',
    text: 'ご注文者情報\n電話：０９０ー１２３４ー５６７８\n',
    names: [],
    personal: ['phone'],
  },
  {
    name: 'English shipping block',
    text: `Dear Taro Yamada,\n\nShipping address:\nTaro Yamada\n42 Elm Street\nPortland, OR 97201\nPhone: 503-555-0142\n${FOOTER_EN}`,
    names: ['Taro Yamada'],
    personal: ['postal', 'phone'],
  },
  {
    name: 'Bill to block with a city/state/ZIP only',
    text: 'Bill to:\nHanako Sato\nAustin, TX 78701\n',
    names: [],
    personal: ['postal'],
  },
  {
    name: 'address right under the greeting',
    text: '山田 太郎 様\n〒150-0001 東京都渋谷区神宮前1-2-3\n\nこの度はご注文ありがとうございます。',
    names: ['山田 太郎'],
    personal: ['postal'],
  },

  {
    name: 'a gift: the shipping block names its recipient, not the reader',
    text: 'ご注文ありがとうございます。\n\n■お届け先\n鈴木 一郎 様\n〒060-0001 北海道札幌市中央区1-1\n',
    names: [],
    personal: ['postal'],
  },

  // hard negatives: the shop's own data
  { name: 'the shop footer alone (ja)', text: `山田 太郎 様\n\nご注文ありがとうございます。\nご注文番号: 123\n合計: 3,980円\n\n${FOOTER_JA}`, names: ['山田 太郎'], personal: [] },
  { name: 'the shop footer alone (en)', text: `Dear Taro Yamada,\n\nThanks for your order.\nOrder total: $39.80\nItems: 2\n\n${FOOTER_EN}`, names: ['Taro Yamada'], personal: [] },
  {
    name: 'a contact desk line right under the greeting',
    text: '山田 太郎 様\nお問い合わせ窓口: 0120-123-456\nカスタマーセンター 03-1234-5678',
    names: ['山田 太郎'],
    personal: [],
  },
  {
    name: 'the shop company line inside the block',
    text: 'ご請求先\nテストショップ株式会社 〒100-0001 東京都千代田区千代田1-1\n',
    names: [],
    personal: [],
  },
  { name: 'order numbers and dates are not phones', text: 'お届け先\n注文番号 503-1234567-1234567\n2026-11-25 お届け予定\n', names: [], personal: [] },
  { name: 'a block ends at its first empty line', text: 'お届け先\n山田 太郎 様\n\n\n\n\n\n電話 090-1234-5678', names: [], personal: [] },
  { name: 'no label, no greeting: nothing', text: '〒150-0001 東京都渋谷区神宮前1-2-3\n090-1234-5678', names: [], personal: [] },
]

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const got = readAddressee(c.text)
    t.same(got.names, c.names, 'names')
    t.same(got.personal, c.personal, 'personal data')
  })
}

t.test('bounded: names are capped; a hostile text is read right', async (t) => {
  const many = Array.from({ length: 50 }, (_, i) => `Dear Name${String.fromCharCode(65 + (i % 26))}x,`).join('\n')
  t.ok(readAddressee(many).names.length <= 4)
  // how long the hostile texts take is measured by `npm run bench` (part 5), not here
  for (const c of HOSTILE_CASES.filter((c) => c.group === 'addressee')) t.same(c.run(c.input(c.n)), c.want(c.n), `${c.name}: no name, no personal data`)
})
