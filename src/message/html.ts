/**
 * HTML as a reader meets it, read with htmlparser2 (a streaming tokenizer: one pass,
 * linear in the input) and its entity decoder (`entities`: every HTML5 named and numeric
 * character reference). Two things come out of one pass:
 *
 * - the text: what a reader sees, roughly. Block ends (`</p>`, `</div>`, `</tr>`, `</li>`,
 *   `</h1>`…) and `<br>` become line breaks, every other tag a space; comments, and what
 *   is never shown (`<script>`, `<style>`, `<title>`, `<iframe>`, `<noembed>`, `<noframes>`,
 *   `<template>`) are left out.
 * - the links, in document order: `<a href>` with the text it shows (the `alt` of the
 *   images inside it when it shows no text), `<area href>` with its `alt`, `<form action>`
 *   and a submit button's `formaction`. Nothing inside a comment or a hidden element above
 *   is a link.
 *
 * Pure: no I/O. Attribute values come back with their character references decoded.
 */
import { Parser } from 'htmlparser2'

/** A link target written in HTML, with the text shown for it. */
export interface HtmlLink {
  /** the attribute as written, character references decoded */
  readonly href: string
  /** the text shown for it, whitespace collapsed; absent when it shows none */
  readonly text?: string
}

/** Elements whose end is a line break in the text. */
const BLOCKS = new Set(['p', 'div', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'])
/** Elements whose content a mail reader never shows. */
const HIDDEN = new Set(['script', 'style', 'title', 'iframe', 'noembed', 'noframes', 'template'])
/**
 * The longest text an anchor may show, in characters: an anchor around a whole block of
 * the message shows no one address, so past this it counts as showing no text.
 */
const LINK_TEXT_MAX = 4000
/** Characters of an anchor's content read, whitespace included, before it is known to be too long. */
const LINK_READ_MAX = 4 * LINK_TEXT_MAX
/**
 * The most links kept while an anchor is open (areas and forms inside it wait for it, so
 * that links stay in document order); past it they are dropped. Bounds memory on
 * `<a><form action=…>` repeated.
 */
const PENDING_MAX = 1000

/** What a link collector needs: a place for each finished link, and a way to say "enough". */
export type LinkSink = (link: HtmlLink) => boolean

/**
 * Reads `html` once. `sink` receives each link as it is complete, in document order, and
 * returns false when it wants no more. Returns the text ('' when `wantText` is false).
 */
export function readHtml(html: string, sink: LinkSink, wantText = true): string {
  const out: string[] = []
  let hidden = 0 // depth inside HIDDEN elements
  let anchor: { href: string; text: string; alts: string[] } | undefined
  let pending: HtmlLink[] = []
  let open = true // the sink still takes links

  const emit = (link: HtmlLink): void => {
    if (!open) return
    if (anchor) {
      if (pending.length < PENDING_MAX) pending.push(link)
    } else open = sink(link)
  }
  const put = (s: string): void => {
    if (wantText) out.push(s)
    if (anchor && anchor.text.length <= LINK_READ_MAX) anchor.text += s.slice(0, LINK_READ_MAX + 1 - anchor.text.length)
  }
  const finishAnchor = (): void => {
    if (!anchor) return
    const a = anchor
    anchor = undefined
    const text = a.text.length > LINK_READ_MAX ? undefined : collapse(a.text)
    const shown = text === undefined || text.length > LINK_TEXT_MAX ? undefined : text || collapse(a.alts.join(' '))
    emit({ href: a.href, ...(shown ? { text: shown } : {}) })
    const waiting = pending
    pending = []
    for (const l of waiting) emit(l)
  }

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (hidden > 0) {
          if (HIDDEN.has(name)) hidden++
          return
        }
        if (HIDDEN.has(name)) {
          hidden++
          put(' ')
          return
        }
        put(name === 'br' ? '\n' : ' ')
        if (name === 'a') {
          // an <a> inside an open one ends it, as browsers do
          finishAnchor()
          if (attrs.href !== undefined && open) anchor = { href: attrs.href, text: '', alts: [] }
        } else if (name === 'area' && attrs.href !== undefined) {
          emit({ href: attrs.href, ...(attrs.alt?.trim() ? { text: collapse(attrs.alt) } : {}) })
        } else if (name === 'form' && attrs.action) {
          emit({ href: attrs.action })
        } else if ((name === 'button' || name === 'input') && attrs.formaction) {
          emit({ href: attrs.formaction })
        } else if (name === 'img' && anchor && attrs.alt && anchor.alts.length < 16) {
          anchor.alts.push(attrs.alt.slice(0, LINK_TEXT_MAX))
        }
      },
      onclosetag(name) {
        if (hidden > 0) {
          if (HIDDEN.has(name)) hidden--
          return
        }
        if (name === 'br') return // `</br>` was read as a `<br>`, which wrote its line break
        put(BLOCKS.has(name) ? '\n' : ' ')
        if (name === 'a') finishAnchor()
      },
      ontext(data) {
        if (hidden === 0) put(data)
      },
      oncomment() {
        if (hidden === 0) put(' ')
      },
      onprocessinginstruction() {
        if (hidden === 0) put(' ')
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  )
  parser.write(html)
  parser.end()
  finishAnchor()
  return out.join('')
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim()
