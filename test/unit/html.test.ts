/**
 * HTML read by src/message/html.ts (htmlparser2): the text a reader sees and the links
 * with the text shown for them, through extractLinks and readMessage as the detectors
 * get them; the evasions that the hand-written reader let through, each as a case.
 */
import t from 'tap'

import { extractLinks, readMessage } from '../../dist/src/message/parse.js'
import { readHtml } from '../../dist/src/message/html.js'
import { HOSTILE_CASES } from '../../dist/bench/lib/hostile.js'

const links = (html: string) => extractLinks(html, '').map((l) => ({ host: l.host, ...(l.text ? { text: l.text } : {}) }))
const text = (html: string) => readHtml(html, () => true)

t.test('the evasions of the hand-written reader', async (t) => {
  t.same(
    links('<a title="x>y" href="https://evil.example/x">amazon.co.jp</a>'),
    [{ host: 'evil.example', text: 'amazon.co.jp' }],
    'a > inside a quoted attribute does not end the tag',
  )
  t.same(
    links('<a href="https://evil.example/">amazon&period;co&period;jp</a>'),
    [{ host: 'evil.example', text: 'amazon.co.jp' }],
    'every HTML5 named character reference is decoded in link text',
  )
  t.same(links('<a href="https://evil.example/">&#x61;mazon&#46;co&#x2E;jp</a>'), [{ host: 'evil.example', text: 'amazon.co.jp' }], 'and numeric ones')
  t.same(
    links('<!-- <a href="https://www.amazon.co.jp/">Amazon</a> --><a href="https://evil.example/">Sign in</a>'),
    [{ host: 'evil.example', text: 'Sign in' }],
    'a link inside a comment is no link',
  )
  t.same(
    links('<!--[if mso]><a href="https://www.amazon.co.jp/">Amazon</a><![endif]-->'),
    [],
    'nor inside a conditional comment',
  )
  t.same(links('<form action="https://evil.example/login" method="post"><input name="pw"></form>'), [{ host: 'evil.example' }], 'form action')
  t.same(
    links('<map name="m"><area shape="rect" coords="0,0,9,9" href="https://evil.example/a" alt="www.amazon.co.jp"></map>'),
    [{ host: 'evil.example', text: 'www.amazon.co.jp' }],
    'area href, its alt as its text',
  )
  t.same(links('<form><button formaction="https://evil.example/b">Pay</button></form>'), [{ host: 'evil.example' }], 'a button formaction')
})

t.test('links: where they go and the text they show', async (t) => {
  t.same(
    links('<a href="https://evil.example/"><img src="cid:logo" alt="amazon.co.jp"></a>'),
    [{ host: 'evil.example', text: 'amazon.co.jp' }],
    'an image link shows its alt text',
  )
  t.same(
    links('<a href="https://evil.example/"><img alt="logo"> Sign in</a>'),
    [{ host: 'evil.example', text: 'Sign in' }],
    'an anchor with text shows its text',
  )
  t.same(links('<a name="top">x</a><a href="javascript:void(0)">y</a>'), [{ host: '', text: 'y' }], 'no href, no link; any scheme is kept')
  t.same(
    links('<a href="https://a.example/">one<a href="https://b.example/">two</a>'),
    [
      { host: 'a.example', text: 'one' },
      { host: 'b.example', text: 'two' },
    ],
    'an anchor opened inside another ends it, as in a browser',
  )
  t.same(
    links('<a href="https://a.example/"><form action="https://f.example/"></form>text</a>'),
    [{ host: 'a.example', text: 'text' }, { host: 'f.example' }],
    'links stay in document order',
  )
  t.same(links('<a href="https://a.example/">unclosed'), [{ host: 'a.example', text: 'unclosed' }], 'an unclosed anchor ends with the document')
  t.same(links(`<a href="https://a.example/">${'word '.repeat(1000)}</a>`), [{ host: 'a.example' }], 'an anchor around a whole block shows no one address')
  t.same(links('<script><a href="https://a.example/">x</a></script><style>a{}</style>'), [], 'no links in script or style')
  t.same(links('<a href="http://0x7f.1/">ip</a>'), [{ host: '127.0.0.1', text: 'ip' }], 'numeric hosts normalised by WHATWG URL')
  t.same(links('<a href="https://ドメイン.example/">x</a>'), [{ host: 'xn--eckwd4c7c.example', text: 'x' }], 'IDN hosts in ASCII')
  t.same(links('<a href="https://a.example/?x=1&amp;copy=2&not=3">x</a>'), [{ host: 'a.example', text: 'x' }])
  t.equal(extractLinks('<a href="https://a.example/?x=1&amp;copy=2&not=3">x</a>', '')[0]?.url, 'https://a.example/?x=1&copy=2&not=3', 'references in attributes decoded as a browser does')
  const many = extractLinks(Array.from({ length: 300 }, (_, i) => `<a href="https://h${i}.example/">${i}</a>`).join(''), 'https://text.example/')
  t.equal(many.length, 200, 'at most MAX_LINKS')
})

t.test('text: what a reader sees', async (t) => {
  t.equal(text('<p>Order</p><p>shipped</p>'), ' Order\n shipped\n')
  t.equal(text('a<br>b<br/>c<BR >d'), 'a\nb\nc\nd')
  t.equal(text('<div>x</div><li>y</li><h2>z</h2><tr><td>w</td></tr>').replace(/ /g, ''), 'x\ny\nz\nw\n')
  t.equal(text('<span>a</span><b>b</b>'), ' a  b ', 'other tags are spaces')
  t.equal(text('<head><title>T</title><style>p{}</style></head><body>Hi &amp; bye&nbsp;&yen;100 &hellip;</body>').trim(), 'Hi & bye\u00a0¥100 …')
  t.equal(text('a<!-- hidden -->b<script>var s = "<p>x</p>"</script>c').replace(/ /g, ''), 'abc')
  t.equal(text('<noframes>salad</noframes><iframe>x</iframe><template><p>t</p></template>ok').trim(), 'ok', 'elements a reader never sees')
  t.equal(text('1 &lt; 2 &gt; 0'), '1 < 2 > 0')
})

t.test('readMessage: HTML-only mail is read as text and links', async (t) => {
  const raw = Buffer.from(
    'From: Shop <a@shop.example>\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n' +
      '<html><head><title>Title</title></head><body><p>Your order&nbsp;#123-4567</p><!-- <a href="https://hidden.example/">x</a> -->' +
      '<a href="https://shop.example/o">https://shop.example/o</a></body></html>\r\n',
  )
  const facts = await readMessage(raw, 1 << 20)
  t.match(facts.text, /Your order\u00a0#123-4567\n/)
  t.notMatch(facts.text, /Title|hidden/)
  t.same(
    facts.links.map((l) => [l.source, l.host, l.text]),
    [
      ['html', 'shop.example', 'https://shop.example/o'],
      ['text', 'shop.example', undefined],
    ],
  )
})

t.test('hostile HTML: the right answer, whatever its size', async (t) => {
  // how long these take is measured by `npm run bench` (part 5, hostile inputs), not here; a hang fails through tap's timeout
  for (const c of HOSTILE_CASES.filter((c) => c.group === 'html')) t.same(c.run(c.input(c.n)), c.want(c.n), `${c.name}: nothing a reader sees, no link`)
})
