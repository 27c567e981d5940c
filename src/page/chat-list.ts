/**
 * The sidebar's list of earlier chats: open, rename (in place) and delete. On a narrow screen the
 * sidebar slides over the page and is opened with the menu button.
 */
import { deleteChat, listChats, renameChat } from './chat-store'

export interface ChatListActions {
  open(id: string): void
  /** After a chat was deleted. */
  deleted(id: string): void
  renamed(id: string, title: string): void
}

export interface ChatList {
  render(openId: string): void
  closeSidebar(): void
}

export function createChatList(actions: ChatListActions): ChatList {
  const list = document.getElementById('chat-list') as HTMLUListElement
  const empty = document.getElementById('no-chats')!
  const sidebar = document.getElementById('sidebar')!
  const scrim = document.getElementById('scrim')!
  const openButton = document.getElementById('open-sidebar') as HTMLButtonElement
  const closeButton = document.getElementById('close-sidebar') as HTMLButtonElement
  let openId = ''

  function setSidebar(open: boolean) {
    sidebar.classList.toggle('open', open)
    scrim.hidden = !open
    openButton.setAttribute('aria-expanded', String(open))
    if (open) (document.getElementById('new-chat') as HTMLButtonElement).focus()
  }
  openButton.addEventListener('click', () => setSidebar(true))
  closeButton.addEventListener('click', () => {
    setSidebar(false)
    openButton.focus()
  })
  scrim.addEventListener('click', () => setSidebar(false))
  sidebar.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && sidebar.classList.contains('open')) {
      event.stopPropagation() // closes the list; does not also stop the answer
      setSidebar(false)
      openButton.focus()
    }
  })

  function render(current: string) {
    openId = current
    const chats = listChats()
    empty.hidden = chats.length > 0
    list.replaceChildren(
      ...chats.map((chat) => {
        const item = document.createElement('li')
        item.className = 'chat-entry'
        const title = chat.title || 'Untitled chat'
        const open = document.createElement('button')
        open.type = 'button'
        open.className = 'chat-open'
        open.textContent = title
        if (chat.id === openId) open.setAttribute('aria-current', 'page')
        open.addEventListener('click', () => {
          actions.open(chat.id)
          setSidebar(false)
        })
        const rename = iconButton(`Rename “${title}”`, 'rename', 'M4 20h4L19 9l-4-4L4 16v4zM13 7l4 4')
        rename.addEventListener('click', () => startRenaming(item, chat.id, title))
        const remove = iconButton(`Delete “${title}”`, 'delete', 'M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3')
        remove.addEventListener('click', () => confirmDeleting(item, chat.id, title))
        item.dataset.id = chat.id
        item.append(open, rename, remove)
        return item
      }),
    )
  }

  /**
   * Asks in place, in the chat's own row, rather than with the browser's `confirm()`: it looks
   * like the page, does not block it, and keeps focus where the person is. Cancel has focus, so
   * a second Enter cannot delete by accident; Escape cancels too.
   */
  function confirmDeleting(item: HTMLLIElement, id: string, title: string) {
    const question = document.createElement('p')
    question.className = 'confirm-question'
    question.id = `confirm-${id}`
    question.textContent = `Delete “${title}”?`
    const yes = textButton('Delete', 'confirm-delete')
    const no = textButton('Cancel', 'cancel-delete')
    for (const button of [yes, no]) button.setAttribute('aria-describedby', question.id)
    item.classList.add('confirming')
    item.replaceChildren(question, yes, no)
    no.focus()
    const cancel = () => {
      render(openId)
      list.querySelector<HTMLButtonElement>(`[data-id="${id}"] .delete`)?.focus()
    }
    no.addEventListener('click', cancel)
    item.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return
      event.stopPropagation() // cancels the question; does not also close the list or stop the answer
      cancel()
    })
    yes.addEventListener('click', () => {
      const next = item.nextElementSibling ?? item.previousElementSibling
      deleteChat(id)
      actions.deleted(id)
      // Focus goes to the chat that took its place in the list, or to "New chat".
      const nextId = next?.getAttribute('data-id')
      const target = nextId && list.querySelector<HTMLButtonElement>(`[data-id="${nextId}"] .chat-open`)
      ;(target || (document.getElementById('new-chat') as HTMLButtonElement)).focus()
    })
  }

  function startRenaming(item: HTMLLIElement, id: string, title: string) {
    const field = document.createElement('input')
    field.value = title
    field.className = 'rename-field'
    field.setAttribute('aria-label', 'Chat title')
    let done = false
    const finish = (save: boolean) => {
      if (done) return
      done = true
      const next = field.value.replace(/\s+/g, ' ').trim()
      if (save && next && next !== title) {
        renameChat(id, next)
        actions.renamed(id, next)
      }
      render(openId)
      list.querySelector<HTMLButtonElement>(`[data-id="${id}"] .rename`)?.focus()
    }
    field.addEventListener('keydown', (event) => {
      // Handled here only: focus moves to the Rename button, which the key would otherwise press.
      if (event.key === 'Enter' || event.key === 'Escape') {
        event.preventDefault()
        event.stopPropagation()
        finish(event.key === 'Enter')
      }
    })
    field.addEventListener('blur', () => finish(true))
    item.replaceChildren(field)
    field.focus()
    field.select()
  }

  return { render, closeSidebar: () => setSidebar(false) }
}

function textButton(label: string, className: string): HTMLButtonElement {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = `confirm-button ${className}`
  button.textContent = label
  return button
}

function iconButton(label: string, className: string, path: string): HTMLButtonElement {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = `icon-button small ${className}`
  button.setAttribute('aria-label', label)
  button.title = label
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('aria-hidden', 'true')
  const shape = document.createElementNS('http://www.w3.org/2000/svg', 'path')
  shape.setAttribute('d', path)
  svg.append(shape)
  button.append(svg)
  return button
}
