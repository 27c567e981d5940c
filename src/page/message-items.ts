/**
 * The list items of the conversation: a person's message (with Edit) and an answer (with Copy,
 * and Regenerate on the last one). Buttons only report what was asked; the page decides.
 */
import { createAnswerView, type AnswerView, type AnswerViewOptions } from './answer-view'
import { showAttachedImage, type ContentPart } from './image-attachment'
import { duration } from './working-indicator'

const FEEDBACK_MS = 2000
/** A question longer than this is shown folded, with "Show more": a pasted page should not push the answer away. */
const FOLD_CHARS = 600
const FOLD_LINES = 10

export const textOf = (content: string | ContentPart[]) =>
  typeof content === 'string' ? content : content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n')

function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const element = document.createElement('button')
  element.type = 'button'
  element.className = `message-action ${className}`
  element.textContent = label
  element.addEventListener('click', onClick)
  return element
}

/** A person's message; `onEdit` is given the new text when they edit it and send it again. */
export function createQuestionItem(content: string | ContentPart[], onEdit: (text: string) => void): HTMLLIElement {
  const item = document.createElement('li')
  item.className = 'message user'
  const bubble = document.createElement('div')
  bubble.className = 'bubble'
  const text = document.createElement('div')
  text.className = 'text'
  text.textContent = textOf(content)
  bubble.append(text)
  const fold = isLong(text.textContent) ? foldButton(text) : undefined
  if (typeof content !== 'string') {
    for (const part of content) if (part.type === 'image_url') showAttachedImage(bubble, part.image_url.url)
  }
  const actions = document.createElement('div')
  actions.className = 'actions'
  const edit = button('Edit', 'edit', () => startEditing())
  edit.title = 'Edit this message and send it again'
  if (fold) actions.append(fold)
  actions.append(edit)
  item.append(bubble, actions)

  function startEditing() {
    const form = document.createElement('form')
    form.className = 'edit-form'
    const field = document.createElement('textarea')
    field.value = textOf(content)
    field.setAttribute('aria-label', 'Edited message')
    const cancel = button('Cancel', 'secondary', stopEditing)
    const send = document.createElement('button')
    send.className = 'primary'
    send.textContent = 'Send'
    const row = document.createElement('div')
    row.className = 'edit-actions'
    row.append(cancel, send)
    form.append(field, row)
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      if (field.value.trim()) onEdit(field.value.trim())
    })
    field.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault()
        form.requestSubmit()
      } else if (event.key === 'Escape') {
        event.stopPropagation()
        stopEditing()
      }
    })
    bubble.hidden = true
    actions.hidden = true
    item.append(form)
    field.focus()
    field.setSelectionRange(field.value.length, field.value.length)

    function stopEditing() {
      form.remove()
      bubble.hidden = false
      actions.hidden = false
      edit.focus()
    }
  }
  return item
}

const isLong = (text: string) => text.length > FOLD_CHARS || text.split('\n').length > FOLD_LINES

/** "Show more" / "Show less" for a long message, which starts folded. */
function foldButton(text: HTMLElement): HTMLButtonElement {
  text.id = `message-${crypto.randomUUID()}`
  text.classList.add('folded')
  const toggle = button('Show more', 'fold', () => {
    const folded = text.classList.toggle('folded')
    toggle.textContent = folded ? 'Show more' : 'Show less'
    toggle.setAttribute('aria-expanded', String(!folded))
  })
  toggle.setAttribute('aria-expanded', 'false')
  toggle.setAttribute('aria-controls', text.id)
  return toggle
}

/** What answered and what it cost, from the stream's `start` and `usage` events and the page's clock. */
export interface AnswerFacts {
  /** The model that answered (a fallback's name when one stood in). */
  model?: string
  /** Tokens the model generated. */
  tokens?: number
  /** From sending to the last token, in milliseconds. */
  ms?: number
}

export interface AnswerItem {
  item: HTMLLIElement
  view: AnswerView
  /**
   * Shows the answer's buttons and facts, once it has ended; Regenerate (or Try again) only
   * where `onRegenerate` is given.
   */
  showActions(onRegenerate?: () => void, facts?: AnswerFacts): void
}

export function createAnswerItem(options: AnswerViewOptions): AnswerItem {
  const item = document.createElement('li')
  item.className = 'message assistant'
  const view = createAnswerView(item, options)
  const actions = document.createElement('div')
  actions.className = 'actions'
  actions.hidden = true // until the answer ends: no empty row under an answer being written
  item.append(actions)
  return {
    item,
    view,
    showActions(onRegenerate, facts) {
      actions.replaceChildren()
      if (view.text) {
        const copy = button('Copy', 'copy-answer', () => {
          void navigator.clipboard.writeText(view.text).then(
            () => feedback(copy, 'Copied'),
            () => feedback(copy, 'Could not copy'),
          )
        })
        copy.title = 'Copy the answer'
        actions.append(copy)
      }
      if (onRegenerate) {
        const again = button(view.state === 'finished' ? 'Regenerate' : 'Try again', 'regenerate', onRegenerate)
        actions.append(again)
      }
      const said = facts && factsText(facts)
      if (said) {
        const line = document.createElement('span')
        line.className = 'answer-facts'
        line.textContent = said
        actions.append(line)
      }
      actions.hidden = !actions.children.length
    },
  }
}

/** "demo · 152 tokens · 1.4 s" */
function factsText({ model, tokens, ms }: AnswerFacts): string {
  const parts = [model]
  if (tokens !== undefined) parts.push(`${tokens.toLocaleString('en-US')} token${tokens === 1 ? '' : 's'}`)
  if (ms !== undefined) parts.push(ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : duration(ms))
  return parts.filter(Boolean).join(' · ')
}

/** The button's text says what happened, for a moment; its name is its text, so it says so too. */
function feedback(element: HTMLButtonElement, text: string) {
  const label = element.textContent
  element.textContent = text
  setTimeout(() => (element.textContent = label), FEEDBACK_MS)
}
