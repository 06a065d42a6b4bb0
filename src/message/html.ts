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
 * Pure: no I/O. Text and attribute values come back with their character references decoded.
 */
import { decodeHTML, decodeHTMLAttribute } from 'entities'
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

  // An open tag is acted on once its attributes are read, at the next event: the parser then
  // builds no attribute object per tag, and only the attributes used here are kept.
  let tag = ''
  const attrs: { href?: string; action?: string; formaction?: string; alt?: string } = {}
  const openTag = (name: string): void => {
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
      if (attrs.href !== undefined && open) anchor = { href: attr(attrs.href), text: '', alts: [] }
    } else if (name === 'area' && attrs.href !== undefined) {
      const alt = collapse(attr(attrs.alt ?? ''))
      emit({ href: attr(attrs.href), ...(alt ? { text: alt } : {}) })
    } else if (name === 'form' && attrs.action) {
      emit({ href: attr(attrs.action) })
    } else if ((name === 'button' || name === 'input') && attrs.formaction) {
      emit({ href: attr(attrs.formaction) })
    } else if (name === 'img' && anchor && attrs.alt && anchor.alts.length < 16) {
      anchor.alts.push(attr(attrs.alt.slice(0, LINK_TEXT_MAX)))
    }
  }
  const flush = (): void => {
    if (!tag) return
    const name = tag
    tag = ''
    openTag(name)
    attrs.href = attrs.action = attrs.formaction = attrs.alt = undefined
  }

  const parser = new Parser(
    {
      onopentagname(name) {
        flush()
        tag = name
      },
      onattribute(name, value) {
        // the first of a name counts, as in a browser
        if (!tag || name.length > 10) return
        const key = name.toLowerCase()
        if ((key === 'href' || key === 'action' || key === 'formaction' || key === 'alt') && attrs[key] === undefined) attrs[key] = value
      },
      onclosetag(name) {
        flush()
        if (hidden > 0) {
          if (HIDDEN.has(name)) hidden--
          return
        }
        if (name === 'br') return // `</br>` was read as a `<br>`, which wrote its line break
        put(BLOCKS.has(name) ? '\n' : ' ')
        if (name === 'a') finishAnchor()
      },
      ontext(data) {
        flush()
        if (hidden === 0 && (wantText || anchor)) put(data.includes('&') ? decodeHTML(data) : data)
      },
      oncomment() {
        flush()
        if (hidden === 0) put(' ')
      },
      onprocessinginstruction() {
        flush()
        if (hidden === 0) put(' ')
      },
    },
    // references are decoded here, in what is used (decodeHTML for text, decodeHTMLAttribute for attribute
    // values, as the tokenizer would): the tokenizer then skips to the next `<` or quote at native speed
    { decodeEntities: false, lowerCaseTags: true, lowerCaseAttributeNames: false },
  )
  parser.write(html)
  parser.end()
  flush()
  finishAnchor()
  return out.join('')
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim()
const attr = (s: string): string => (s.includes('&') ? decodeHTMLAttribute(s) : s)
