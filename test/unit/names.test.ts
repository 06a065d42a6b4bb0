/**
 * Brand names written the way lures write them: spelled out (S M B Cカード), in Chinese forms of
 * their kanji (警察厅, 乐天), or cut short to a family's leading name (三井住友). Table-driven, on
 * the shipped registry and phrase book, with the hard negatives each class must leave alone.
 */
import t from 'tap'

import fs from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'

import { DomainIndex } from '../../dist/src/knowledge/domains.js'
import { brandsLedBy } from '../../dist/src/knowledge/families.js'
import { brandsNamedIn, normaliseName, parseRegistry } from '../../dist/src/knowledge/registry.js'
import { senderBrands } from '../../dist/src/detect/claim.js'
import { CHINESE_FORM, CHINESE_FORMS, CHINESE_FORMS_JAPANESE, nameForm, withoutRoleWords } from '../../dist/src/message/text.js'
import { ROOT, shippedPhrases } from '../helpers/settings'

const registry = parseRegistry(YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'shop-notice.retailers.yaml'), 'utf8')), 'retailers').value
const book = shippedPhrases()
const domains = new DomainIndex(registry, book.generic_words)
const named = (text: string, ambiguous = false): string[] => brandsNamedIn(registry, text, { ambiguous }).map((b) => b.id)

t.test('nameForm: spaced-out letters joined, the runs recorded', async (t) => {
  const cases: [string, string, [number, number][]][] = [
    ['S M B Cカード', 'smbcカード', [[0, 4]]],
    ['J\u3000C\u3000B', 'jcb', [[0, 3]]],
    ['A m a z o n のお知らせ', 'amazonのお知らせ', [[0, 6]]],
    ['E T C 利用照会サービス', 'etc利用照会サービス', [[0, 3]]],
    ['三 井 住 友 カ ー ド', '三井住友カード', []],
    ['Plan A B', 'plan a b', []],
    ['J. R. R. Tolkien', 'j. r. r. tolkien', []],
    ['to x a m a z o n', 'to xamazon', [[3, 10]]],
    ['a b c and d e f', 'abc and def', [[0, 3], [8, 11]]],
  ]
  for (const [raw, text, spelled] of cases) t.same(nameForm(raw), { text, spelled }, raw)
  t.equal(nameForm('J C B', true).text, 'JCB', 'case kept on request')
})

t.test('brandsNamedIn: spelled-out names count only where the name holds the whole run', async (t) => {
  const cases: [string, string[]][] = [
    ['S M B Cカードからのお知らせ', ['smbc-card']],
    ['【J C B】カードご利用確認', ['jcb']],
    ['A m a z o n アカウント', ['amazon']],
    ['P a y P a l account', ['paypal']],
    // hard negatives: lists, initials and sentences of single letters
    ['options a b c d', []],
    ['I a m here', []],
    ['J. C. B. Smith', []],
    ['see x a m a z o n', []],
    ['j c b', []],
  ]
  for (const [text, ids] of cases) t.same(named(text), ids, text)
})

t.test('Chinese forms of kanji name the brand', async (t) => {
  const cases: [string, string[]][] = [
    ['警察厅', ['npa']],
    ['乐天', ['rakuten']],
    ['乐天市场', ['rakuten']],
    ['三井住友卡', ['smbc-card']],
    ['三菱UFJ银行', ['mufg']],
    ['日本邮便', ['japanpost']],
    ['东京电力', ['tepco']],
    ['国税厅', ['nta']],
    ['厚生劳动省', ['mhlw']],
    ['警視廳', ['keishicho']],
    // hard negatives: Japanese and Chinese words that fold to no name
    ['警察', []],
    ['银行', []],
    ['东京', []],
    ['快乐', []],
  ]
  for (const [text, ids] of cases) t.same(named(text), ids, text)
  t.equal(normaliseName('厚生労働省'), normaliseName('厚生劳动省'), '労働 and 劳动 are one form')
})

t.test('CHINESE_FORMS: simplified forms are glyphs of CONTENT_SIMPLIFIED_CHINESE; Japanese ones are not', async (t) => {
  for (const [from, to] of Object.entries(CHINESE_FORMS)) {
    t.not(from, to, `${from} folds onto another form`)
    t.equal(book.simplified_chinese.has(from), !CHINESE_FORMS_JAPANESE.has(from), `${from}: in the phrase book's glyphs unless Japanese too`)
  }
  for (const j of CHINESE_FORMS_JAPANESE) t.ok(j in CHINESE_FORMS, `${j} is a key`)
  t.same([...'乐天 東京'.matchAll(CHINESE_FORM)].map((m) => m[0]), ['乐'])
  t.same(new Set(CHINESE_FORM.source.slice(1, -1)), new Set(Object.keys(CHINESE_FORMS)), 'the class holds exactly the keys')
})

t.test('brandsLedBy: a name cut short names its family, in registry order', async (t) => {
  const led = (name: string): string[] => brandsLedBy(registry, normaliseName(name)).map((b) => b.id)
  const cases: [string, string[]][] = [
    ['三井住友', ['smbc-card', 'smbc', 'diners']],
    ['三菱UFJ', ['mufg']],
    ['三井住', ['smbc-card', 'smbc', 'diners']],
    ['Sumitomo Mitsui', ['smbc', 'diners']],
    // too short, kana alone (given names, words), one Latin word, or cut inside a Latin word
    ['三井', []],
    ['三菱', []],
    ['みずほ', []],
    ['セゾン', []],
    ['ソフト', []],
    ['Tokyo', []],
    ['Sumitomo', []],
    ['American', []],
    ['Amaz', []],
    ['三井住友海上', []],
    ['三井住友信託', []],
  ]
  for (const [name, ids] of cases) t.same(led(name), ids, name)
})

t.test('withoutRoleWords: the desk words around a display name go', async (t) => {
  const cases: [string, string][] = [
    ['三井住友カスタマーセンター', '三井住友'],
    ['【三井住友】 サポートセンター', '三井住友'],
    ['三菱UFJ 事務局', '三菱ufj'],
    ['Sumitomo Mitsui Support Team', 'sumitomo mitsui'],
    ['Supportive Team', 'supportive'],
    ['サポート', 'サポート'],
  ]
  for (const [name, want] of cases) t.equal(withoutRoleWords(name, book.sender_role_words), want, name)
})

t.test('senderBrands: a cut-short display name claims the family brand the From domain sends for', async (t) => {
  const ids = (name: string, domain: string): string[] =>
    senderBrands({ from: { address: `x@${domain}`, name, domain } }, domains, true, book.sender_role_words).named.map((b) => b.id)
  const cases: [string, string, string[]][] = [
    ['三井住友', 'lzbj.example', ['smbc-card']],
    ['三井住友', 'smbc.co.jp', ['smbc']],
    ['三井住友 カスタマーセンター', 'smbc-card.com', ['smbc-card']],
    ['三井住友', 'vpass.ne.jp', ['smbc-card']],
    ['三菱UFJ', 'bk.mufg.jp', ['mufg']],
    ['警察厅', 'info.example', ['npa']],
    ['S M B Cカード', 'mail.example', ['smbc-card']],
    // hard negatives: names of people and companies that are no cut of a brand's name
    ['みずほ', 'gmail.com', []],
    ['三井', 'gmail.com', []],
    ['三井住友海上', 'ms-ins.com', []],
    ['Tokyo', 'example.com', []],
    ['Support', 'example.com', []],
    ['J. R. R. Tolkien', 'example.com', []],
    ['A B C Trading', 'example.com', []],
    [`三井住友${'サポート'.repeat(40)}`, 'example.com', []],
  ]
  for (const [name, domain, want] of cases) t.same(ids(name, domain), want, `${name} <…@${domain}>`)
})
