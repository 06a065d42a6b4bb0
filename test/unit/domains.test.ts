/** Lookalike domains, skeletons, edit distance and mixed-script IDNs. */
import t from 'tap'

import fs from 'node:fs'
import path from 'node:path'

import YAML from 'yaml'

import { DomainIndex, editDistance, isMixedScript, skeleton } from '../../dist/src/knowledge/domains.js'
import { extractLinks } from '../../dist/src/message/parse.js'
import { parseRegistry } from '../../dist/src/knowledge/registry.js'
import { ROOT, TEST_LISTS, TEST_RETAILERS, shippedPhrases } from '../helpers/settings'

const index = new DomainIndex(parseRegistry({ retailers: TEST_RETAILERS, ...TEST_LISTS }, 'test').value, shippedPhrases().generic_words)

t.test('skeleton and edit distance', async (t) => {
  t.equal(skeleton('amaz0n'), skeleton('amazon'), '0 and o')
  t.equal(skeleton('arnazon'), skeleton('amazon'), 'rn and m')
  t.equal(skeleton('аmazon'), skeleton('amazon'), 'Cyrillic а')
  t.not(skeleton('amazing'), skeleton('amazon'))
  t.equal(editDistance('paypl', 'paypal', 2), 1)
  t.equal(editDistance('kitten', 'sitting', 5), 3)
  t.equal(editDistance('abcdefgh', 'zzzzzzzz', 2), 3, 'gives up past max')
})

t.test('lookalike: embedded, confusable, edit distance; never the brand itself or a listed domain', async (t) => {
  const look = (h: string) => {
    const l = index.lookalike(h)
    return l ? `${l.brand.id}:${l.how}` : undefined
  }
  t.equal(look('amazon-co-jp.account-check.example'), 'amazon:embedded')
  t.equal(look('smbc-card.com.verify.top'), 'smbc-card:embedded')
  t.equal(look('www.amazonsupport.example'), 'amazon:embedded', 'the brand at the start of a label')
  t.equal(look('amaz0n.example'), 'amazon:confusable')
  t.equal(look('xn--mazon-3ve.com'), 'amazon:confusable', 'Cyrillic а in an IDN')
  t.equal(look('paypa1.com'), 'paypal:confusable')
  t.equal(look('paypl.com'), 'paypal:edit-distance')
  t.equal(look('www.amazon.co.jp'), undefined)
  t.equal(look('m.media-amazon.com'), undefined, 'a brand link domain')
  t.equal(look('bit.ly'), undefined)
  t.equal(look('pineapple.example'), undefined)
  t.equal(look('203.0.113.9'), undefined)
  t.equal(look('jcbfan.example'), undefined, 'short keywords only match whole tokens')
})

t.test('lookalike: a label that is only a sender name of its brand is no keyword; one also written in text still is', async (t) => {
  const retailers = {
    ...TEST_RETAILERS,
    aaa: { names: ['American Automobile Association'], sender_names: ['AAA'], sending_domains: ['aaa.com'] },
    chase: { names: ['Chase Bank'], ambiguous_names: ['Chase'], sender_names: ['Chase'], sending_domains: ['chase.com'] },
    aws: { names: ['AWS Billing'], sender_names: ['AWS'], sending_domains: ['aws.com'] },
  }
  const idx = new DomainIndex(parseRegistry({ retailers, ...TEST_LISTS }, 'test').value, shippedPhrases().generic_words)
  const look = (h: string) => {
    const l = idx.lookalike(h)
    return l ? `${l.brand.id}:${l.how}` : undefined
  }
  t.equal(look('aaa-plumbing.example'), undefined, 'a small business named AAA-something imitates nobody')
  t.equal(look('mail.aaa.example'), undefined, 'nor a host labelled aaa')
  t.equal(look('aws-consulting.example'), undefined, 'aws: sender-only, as in text')
  t.equal(look('chase-secure-login.example'), 'chase:embedded', 'chase is also an ambiguous name: still a keyword')
  t.equal(idx.brandOf('members.aaa.com')?.id, 'aaa', "the brand's own domain is still its own")
})

t.test('mixed scripts', async (t) => {
  t.ok(isMixedScript('pаypal'), 'Latin with Cyrillic')
  t.notOk(isMixedScript('日本語ドメイン'), 'Han with katakana is one writing system')
  t.notOk(isMixedScript('rakuten楽天'), 'Latin with Han is allowed')
  t.same(index.mixedScriptLabels('xn--pypal-4ve.com'), ['pаypal'])
})

t.test('extractLinks: anchors keep their text, text URLs are found, entities decoded', async (t) => {
  const links = extractLinks(
    '<a href="https://evil.example/x?a=1&amp;b=2">https://www.amazon.co.jp/</a><a href=\'http://203.0.113.5/\'>here</a><a href=mailto:a@b.example>mail</a>',
    'see https://shop.example/order?id=1. and www.plain.example',
  )
  t.match(links, [
    { url: 'https://evil.example/x?a=1&b=2', host: 'evil.example', scheme: 'https', text: 'https://www.amazon.co.jp/', source: 'html' },
    { host: '203.0.113.5', scheme: 'http', text: 'here' },
    { scheme: 'mailto', host: '' },
    { url: 'https://shop.example/order?id=1', source: 'text' },
    { host: 'www.plain.example', source: 'text' },
  ])
  const many = extractLinks(undefined, Array.from({ length: 500 }, (_, i) => `https://h${i}.example/`).join(' '))
  t.equal(many.length, 200, 'bounded')
})

t.test('the shipped registry: the US retailers of prize lures are imitated by their names, ordinary hosts are not', async (t) => {
  const shipped = parseRegistry(YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'shop-notice.retailers.yaml'), 'utf8')), 'shipped').value
  const real = new DomainIndex(shipped, shippedPhrases().generic_words)
  const look = (h: string) => real.lookalike(h)?.brand.id
  const cases: [host: string, brand: string | undefined, why: string][] = [
    ['kohls-rewards.example', 'kohls', 'the label of its domain, as a label part'],
    ['walgreens-prize-center.example', 'walgreens', 'its name as a label part'],
    ['lowes.reward-desk.example', 'lowes', 'its domain label as a label'],
    ['dickssportinggoods-giveaway.example', 'dicks-sporting-goods', 'its domain label'],
    // hard negatives
    ['cvs.savannah.gnu.org', undefined, 'cvs is a version-control host name (generic word), not the pharmacy'],
    ['lowestfare.example', undefined, 'a word that starts with the label of lowes.com'],
    ['public.com', undefined, 'Publix is not registered: public is one edit from it'],
    ['email.kohls.com', undefined, 'the brand itself'],
  ]
  for (const [host, want, why] of cases) t.equal(look(host), want, `${host}: ${why}`)
})

t.test('the shipped registry: brands\' own platforms, ordinary host words and place names are no lookalikes; dashed keywords are', async (t) => {
  const shipped = parseRegistry(YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'shop-notice.retailers.yaml'), 'utf8')), 'shipped').value
  const real = new DomainIndex(shipped, shippedPhrases().generic_words)
  const look = (h: string) => real.lookalike(h)?.brand.id
  const cases: [host: string, brand: string | undefined, why: string][] = [
    // a multi-tenant platform's own name holds the brand that runs it (hosting_platforms)
    ['mapleandpine-assets.s3.us-west-2.amazonaws.com', undefined, 'a shop\'s S3 bucket: the platform is Amazon\'s, the tenant imitates nobody'],
    ['us-west-2.amazonses.com', undefined, 'Amazon SES envelope host'],
    ['lh3.googleusercontent.com', undefined, 'Google user content'],
    ['baysidedental.onmicrosoft.com', undefined, 'a Microsoft 365 tenant\'s initial domain'],
    ['googlegroups.com', undefined, 'Google Groups is a registered platform (google-groups)'],
    ['amazon-billing-update.s3.us-east-1.amazonaws.com', 'amazon', 'the tenant\'s own label still imitates'],
    ['paypal-login.s3.amazonaws.com', 'paypal', 'another brand\'s name as the tenant'],
    ['amaz0n-support.s3.amazonaws.com', 'amazon', 'a confusable tenant label'],
    ['usps.force.com', 'usps', 'a brand-named tenant (exempt only in the brand\'s own mail)'],
    // ordinary host words and place names of brands' domains (generic words of the phrase book)
    ['images.shop.example', undefined, 'images of images-amazon.com'],
    ['media.news.example', undefined, 'media of media-amazon.com'],
    ['live.radio.example', undefined, 'live of live.com'],
    ['office.example.com', undefined, 'office of office.com'],
    ['mobile.shop.example', undefined, 'mobile of t-mobile.com'],
    ['digital.example.com', undefined, 'digital of digital.go.jp'],
    ['smile.example.com', undefined, 'smile of smile-etc.jp'],
    ['tokyo-bakery.example', undefined, 'tokyo of tokyo-gas.co.jp and tokyo.lg.jp: a place'],
    // a keyword holding a dash is found whole inside a label
    ['t-mobile-billing.example', 't-mobile', 't-mobile as a run of label parts'],
    ['tokyo-gas-pay.example', 'tokyo-gas', 'tokyo-gas as a run of label parts'],
    ['my-t-mobile.example', 't-mobile', 'at the end of a label'],
    ['tokyo-gasket.example', undefined, 'tokyo-gas inside a longer part is not the run'],
    ['live-microsoft.example', 'microsoft', 'a brand name beside an ordinary word still imitates'],
  ]
  for (const [host, want, why] of cases) t.equal(look(host), want, `${host}: ${why}`)
})

