import t from 'tap'

import { normaliseAddress, normaliseName } from '../../dist/src/store/index.js'

t.test('addresses: one form per mailbox', async (t) => {
  const same: [string, string][] = [
    ['Taro.Yamada@Example.JP', 'taro.yamada@example.jp'],
    ['<taro@example.jp>', 'taro@example.jp'],
    ['  taro@example.jp. ', 'taro@example.jp'],
    ['taro@ＥＸＡＭＰＬＥ.jp', 'taro@example.jp'],
    ['taro@例え.jp', 'taro@xn--r8jz45g.jp'],
    ['"a@b"@example.jp', '"a@b"@example.jp'],
  ]
  for (const [given, want] of same) t.equal(normaliseAddress(given), want, given)
  t.equal(normaliseAddress('taro+shop@example.jp'), 'taro+shop@example.jp', 'sub-addresses are kept')
  for (const bad of ['', 'taro', '@example.jp', 'taro@']) t.equal(normaliseAddress(bad), '', `not an address: ${JSON.stringify(bad)}`)
})

t.test('names: the spellings of one name meet, different names do not', async (t) => {
  const groups: string[][] = [
    ['山田 太郎 様', '山田太郎様', '山田　太郎さま', '山田太郎 殿', '山田太郎様へ', '山田太郎', '山田太郎サマ', '山田\u200b太郎 様'],
    ['ヤマダ タロウ 様', 'やまだたろう', 'ﾔﾏﾀﾞ ﾀﾛｳ', 'ヤマダタロウさん'],
    ['Taro Yamada', 'Mr. TARO YAMADA', 'Yamada Taro', 'Dear Taro Yamada,', 'ｔａｒｏ　ｙａｍａｄａ'],
    ['株式会社サンプル 御中', '株式会社サンプル'],
  ]
  const keys = groups.map((g) => {
    const k = normaliseName(g[0] as string)
    t.ok(k.length > 0, `${g[0]} leaves a name`)
    for (const n of g) t.equal(normaliseName(n), k, `${n} = ${g[0]}`)
    return k
  })
  t.equal(new Set(keys).size, keys.length, 'the groups stay apart')
  t.not(normaliseName('山田花子 様'), normaliseName('山田太郎 様'))
  t.not(normaliseName('Hanako Yamada'), normaliseName('Taro Yamada'))
  for (const empty of ['', '   ', '様', 'Dear', 'Mr.']) t.equal(normaliseName(empty), '', `nothing of a name in ${JSON.stringify(empty)}`)
  t.ok(normaliseName('x'.repeat(1000)).length <= 128, 'long input is cut')
})
