#!/usr/bin/env node
'use strict'
// shop-notice command line: see `shop-notice --help` and README.md.
const { guardStdout, main } = require('../dist/src/cli/main.js')

guardStdout()

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`shop-notice: ${err && err.stack ? err.stack : err}\n`)
    process.exitCode = 1
  },
)
