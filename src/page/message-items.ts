/**
 * The list items of the conversation: a person's message (with Edit) and an answer (with Copy,
 * and Regenerate on the last one). Buttons only report what was asked; the page decides.
 */
import { createAnswerView, type AnswerView, type AnswerViewOptions } from './answer-view'
import { showAttachedImage, type ContentPart } from './image-attachment'

const FEEDBACK_MS = 2000

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
  if (typeof content !== 'string') {
    for (const part of content) if (part.type === 'image_url') showAttachedImage(bubble, part.image_url.url)
  }
  const actions = document.createElement('div')
  actions.className = 'actions'
  const edit = button('Edit', 'edit', () => startEditing())
  edit.setAttribute('aria-label', 'Edit this message and send it again')
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

export interface AnswerItem {
  item: HTMLLIElement
  view: AnswerView
  /** Shows the answer's buttons, once it has ended; Regenerate only where `onRegenerate` is given. */
  showActions(onRegenerate?: () => void): void
}

export function createAnswerItem(options: AnswerViewOptions): AnswerItem {
  const item = document.createElement('li')
  item.className = 'message assistant'
  const view = createAnswerView(item, options)
  const actions = document.createElement('div')
  actions.className = 'actions'
  item.append(actions)
  return {
    item,
    view,
    showActions(onRegenerate) {
      actions.replaceChildren()
      if (view.text) {
        const copy = button('Copy', 'copy-answer', () => {
          void navigator.clipboard.writeText(view.text).then(
            () => feedback(copy, 'Copied'),
            () => feedback(copy, 'Could not copy'),
          )
        })
        copy.setAttribute('aria-label', 'Copy the answer')
        actions.append(copy)
      }
      if (onRegenerate) {
        const again = button(view.state === 'finished' ? 'Regenerate' : 'Try again', 'regenerate', onRegenerate)
        actions.append(again)
      }
    },
  }
}

function feedback(element: HTMLButtonElement, text: string) {
  const label = element.textContent
  element.textContent = text
  setTimeout(() => (element.textContent = label), FEEDBACK_MS)
}
