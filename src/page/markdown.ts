/**
 * Model output as Markdown: parsed by `marked`, sanitized by DOMPurify, rendered block by block.
 *
 * The text is untrusted, so there are two layers. First, raw HTML in the Markdown is never
 * rendered as HTML: `marked` hands it to us as `html` tokens and we print it as text, so an
 * answer that says `<img src=x onerror=…>` shows exactly that. Markdown images become links
 * (loading a URL the model chose would let a prompt injection send data out in the query
 * string). Second, whatever `marked` produces still goes through DOMPurify with an allowlist of
 * the tags Markdown needs, which drops `javascript:` links and anything else unexpected.
 */
import DOMPurify from 'dompurify'
import { Marked, type Token, type Tokens } from 'marked'

const ALLOWED_TAGS = [
  ...['p', 'br', 'hr', 'blockquote', 'pre', 'code', 'em', 'strong', 'del', 'a'],
  ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'input'],
  ...['table', 'thead', 'tbody', 'tr', 'th', 'td'],
]
// `input` only ever comes from a GFM task list item (a disabled checkbox); raw HTML never gets here.
const ALLOWED_ATTR = ['href', 'title', 'class', 'start', 'align', 'type', 'checked', 'disabled']

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const markdown = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text, block }: Tokens.HTML | Tokens.Tag) {
      return block ? `<p>${escapeHtml(text)}</p>` : escapeHtml(text)
    },
    image({ href, title, text }: Tokens.Image) {
      const label = escapeHtml(text ? `Image: ${text}` : href)
      return `<a href="${escapeHtml(href)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${label}</a>`
    },
  },
})

/** The one sanitizer, with the page's hooks; the highlighter uses it too. */
export const purify = DOMPurify(window)
purify.addHook('afterSanitizeAttributes', (node) => {
  // A link in an answer opens beside the chat, and tells the other site nothing about it.
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank')
    node.setAttribute('rel', 'noopener noreferrer nofollow')
  }
})

/** One top-level Markdown block (paragraph, list, table, code block…) and the nodes it became. */
interface RenderedBlock {
  raw: string
  nodes: ChildNode[]
}

/**
 * Renders Markdown into `target`, reusing the nodes of blocks whose source has not changed since
 * the last call. While an answer streams only its last block grows, so each call parses the text
 * (cheap) but rebuilds only the tail of the DOM: a user can select or copy from earlier blocks
 * while the answer goes on.
 *
 * @example
 * ```ts
 * const renderer = createMarkdownRenderer(element, (fragment) => addCopyButtons(fragment))
 * renderer.render('# Title\n\nSome *text*')
 * ```
 */
export function createMarkdownRenderer(
  target: HTMLElement,
  decorate: (fragment: DocumentFragment) => void = () => {},
): { render(text: string): void } {
  const blocks: RenderedBlock[] = []
  let definitions = ''

  return {
    render(text) {
      const tokens = markdown.lexer(text)
      // A reference definition (`[1]: https://…`) can change how earlier blocks render.
      const nextDefinitions = JSON.stringify(tokens.links)
      let kept = 0
      if (nextDefinitions === definitions) {
        while (kept < blocks.length && kept < tokens.length && blocks[kept]!.raw === tokens[kept]!.raw) kept++
      }
      definitions = nextDefinitions
      for (const block of blocks.splice(kept)) for (const node of block.nodes) node.remove()
      for (const token of tokens.slice(kept)) {
        const fragment = renderBlock(token)
        decorate(fragment)
        const nodes = [...fragment.childNodes]
        target.append(fragment)
        blocks.push({ raw: token.raw, nodes })
      }
    },
  }
}

function renderBlock(token: Token): DocumentFragment {
  const fragment = purify.sanitize(markdown.parser([token]), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    RETURN_DOM_FRAGMENT: true,
  })
  // The newlines `marked` puts between tags would otherwise be text nodes of their own.
  for (const node of [...fragment.childNodes]) {
    if (node.nodeType === Node.TEXT_NODE && !node.textContent?.trim()) node.remove()
  }
  return fragment
}
