/** Lookalike domains, skeletons, edit distance and mixed-script IDNs. */
import t from 'tap'

import { DomainIndex, editDistance, isMixedScript, skeleton } from '../../dist/src/knowledge/domains.js'
import { extractLinks } from '../../dist/src/message/parse.js'
import { parseRegistry } from '../../dist/src/knowledge/registry.js'
import { TEST_LISTS, TEST_RETAILERS, shippedPhrases } from '../helpers/settings'

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
