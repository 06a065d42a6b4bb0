/**
 * The package's main module (package.json "main"; plugins/shop-notice.js loads it): the
 * Haraka plugin, whose hooks live in src/plugin/. Haraka copies these exports onto its
 * plugin object.
 */
export * from './plugin/index.js'
