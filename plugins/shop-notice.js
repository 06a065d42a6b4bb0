'use strict'
// Haraka loads this file when the repository itself is the Haraka folder (`npm start`).
// The plugin is the package's compiled code (npm run build); its defaults come from the
// package's config/, and the Haraka folder's config/ overrides them key by key.
const path = require('node:path')

const pkgRoot = path.resolve(__dirname, '..')
const impl = require(path.join(pkgRoot, 'dist', 'src', 'index.js'))

for (const [key, value] of Object.entries(impl)) exports[key] = value
exports.config = exports.config.module_config(pkgRoot, process.env.HARAKA || pkgRoot)
