/**
 * `node --require dist/bench/what-if-preload.js`: the library fixes of lib/what-if.ts in a
 * Haraka process the benchmark starts, to measure what they would give end to end.
 */
import { applyLibraryFixes } from './lib/what-if.js'

applyLibraryFixes()
