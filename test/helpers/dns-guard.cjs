'use strict'
// Preloaded (`node --require`) into the Haraka child of test/e2e/haraka.test.ts.
//
// Haraka core looks up the client's reverse DNS with node:dns's default resolver,
// which would ask the machine's own nameservers. Here every node:dns resolver -
// the default one, and every `new Resolver()` (the plugin's included) - is pointed
// at the loopback fixture named by SHOP_NOTICE_E2E_DNS, and any attempt to use a
// resolver outside 127.0.0.0/8, or to look a host name up through the system
// (getaddrinfo), is refused and reported on stderr with `DNS-GUARD:`, which the
// test asserts never appears.
const dns = require('node:dns')

const server = process.env.SHOP_NOTICE_E2E_DNS ?? ''
if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(server)) {
  process.stderr.write(`DNS-GUARD: SHOP_NOTICE_E2E_DNS is not a loopback ip:port: ${JSON.stringify(server)}\n`)
  process.exit(70)
}

const report = (what) => process.stderr.write(`DNS-GUARD: ${what}\n`)
const loopbackOnly = (servers) => {
  const list = Array.isArray(servers) ? servers : []
  const bad = list.filter((s) => !/^(127\.\d+\.\d+\.\d+)(:\d+)?$/.test(String(s)) && !/^\[?::1\]?(:\d+)?$/.test(String(s)))
  if (bad.length) {
    report(`setServers(${JSON.stringify(list)}) refused: not loopback`)
    return [server]
  }
  return list.length ? list : [server]
}

for (const api of [dns, dns.promises]) {
  const Base = api.Resolver
  const origSet = Base.prototype.setServers
  Base.prototype.setServers = function (servers) {
    return origSet.call(this, loopbackOnly(servers))
  }
  class LoopbackResolver extends Base {
    constructor(...args) {
      super(...args)
      origSet.call(this, [server])
    }
  }
  api.Resolver = LoopbackResolver
  api.setServers([server])
}

const isLocalName = (host) => host === 'localhost' || require('node:net').isIP(String(host)) !== 0
const origLookup = dns.lookup
dns.lookup = function (host, ...rest) {
  if (!isLocalName(host)) {
    report(`lookup(${JSON.stringify(host)}) refused`)
    const cb = rest[rest.length - 1]
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (refused by the e2e DNS guard)`), { code: 'ENOTFOUND' })
    if (typeof cb === 'function') return process.nextTick(cb, err)
  }
  return origLookup.call(this, host, ...rest)
}
const origPromisesLookup = dns.promises.lookup
dns.promises.lookup = async function (host, ...rest) {
  if (!isLocalName(host)) {
    report(`lookup(${JSON.stringify(host)}) refused`)
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (refused by the e2e DNS guard)`), { code: 'ENOTFOUND' })
  }
  return origPromisesLookup.call(this, host, ...rest)
}
