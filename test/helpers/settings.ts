/**
 * Settings for unit tests: the shipped phrase book, a small registry of made-up and
 * real brands, and the INI defaults. Compiled the way loadSettings compiles them.
 */
import fs from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'

import { type Settings, compileSettings, parseIni } from '../../dist/src/config/settings.js'
import { parsePhrases } from '../../dist/src/knowledge/phrases.js'
import { parseRegistry } from '../../dist/src/knowledge/registry.js'

export const ROOT = path.resolve(__dirname, '..', '..')

export const shippedPhrases = () =>
  parsePhrases(YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'shop-notice.phrases.yaml'), 'utf8')), 'phrases').value

export const TEST_RETAILERS = {
  amazon: {
    names: ['Amazon', 'アマゾン', 'Amazon.co.jp'],
    sending_domains: ['amazon.co.jp', 'amazon.com'],
    link_domains: ['amzn.to', 'media-amazon.com'],
    promises: { links: 'https-only', order_number: '\\d{3}-\\d{7}-\\d{7}' },
  },
  rakuten: { names: ['楽天', 'Rakuten'], sending_domains: ['rakuten.co.jp'] },
  'smbc-card': {
    names: ['三井住友カード', 'SMBC'],
    sending_domains: ['smbc-card.com', 'vpass.ne.jp'],
    promises: { attachments: 'never' },
  },
  jcb: { names: ['JCB', 'MyJCB'], sending_domains: ['jcb.co.jp'] },
  paypal: { names: ['PayPal'], sending_domains: ['paypal.com'] },
  testshop: { names: ['TestShop', 'テストショップ'], sending_domains: ['testshop.jp'], link_domains: ['testshop-cdn.net'] },
  norton: { names: ['NortonLifeLock'], ambiguous_names: ['Norton'], sending_domains: ['norton.com'] },
}

export const TEST_LISTS = {
  free_mail_domains: ['gmail.com', 'yahoo.co.jp', 'outlook.com'],
  url_shorteners: ['bit.ly', 't.co'],
  neutral_link_domains: ['twitter.com', 'w3.org'],
  redirectors: ['sendgrid.net'],
}

export function testSettings(retailers: object = TEST_RETAILERS, lists: object = TEST_LISTS): Settings {
  const registry = parseRegistry({ retailers, ...lists }, 'test-registry').value
  return compileSettings(parseIni({}).value, registry, shippedPhrases())
}
