'use strict'
// The embedded default delivery for `npm start` (config/maildir.ini): see src/plugin/maildir.ts.
const path = require('node:path')

const impl = require(path.join(__dirname, '..', 'dist', 'src', 'plugin', 'maildir.js'))

for (const [key, value] of Object.entries(impl)) exports[key] = value
