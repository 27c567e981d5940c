/**
 * Syntax highlighting for code blocks in answers: highlight.js's core and the languages answers
 * use most. This module is its own chunk, imported only once an answer has a code block, so the
 * page opens without it (scripts/build-page.ts).
 *
 * highlight.js escapes the code it is given and wraps tokens in `<span class="hljs-…">`; its HTML
 * still goes through DOMPurify, allowing only those spans, so model output stays text.
 */
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import css from 'highlight.js/lib/languages/css'
import diff from 'highlight.js/lib/languages/diff'
import go from 'highlight.js/lib/languages/go'
import ini from 'highlight.js/lib/languages/ini'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import shell from 'highlight.js/lib/languages/shell'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import { purify } from './markdown'

const LANGUAGES = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  ini,
  java,
  javascript,
  json,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
}
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language)
// ini covers TOML (wrangler.toml), the language's own aliases cover ts, js, py, sh, html…
hljs.registerAliases(['toml'], { languageName: 'ini' })

/** Highlights a `<code>` element in place, if its language is one we know. Returns whether it did. */
export function highlight(code: HTMLElement, language: string): boolean {
  if (!hljs.getLanguage(language)) return false
  const html = hljs.highlight(code.textContent ?? '', { language, ignoreIllegals: true }).value
  code.replaceChildren(
    purify.sanitize(html, { ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'], RETURN_DOM_FRAGMENT: true }),
  )
  code.classList.add('hljs')
  return true
}
