/**
 * An image attached to the next message, for models with vision. The file is read as a `data:`
 * URL and sent as an OpenAI-style content part; the gateway maps it to each provider's own form,
 * and refuses it (with a message the page shows) for a model without vision or an image too large.
 */

/** A part of a message's content, in the OpenAI form the gateway accepts. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }

/** The formats every vision provider the gateway speaks to accepts. */
const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif']

export interface ImageAttachmentElements {
  /** A file input (it may be hidden: `button` opens it). */
  input: HTMLInputElement
  button: HTMLButtonElement
  /** Shown while an image is attached: holds an `<img>` preview and a `button` that removes it. */
  preview: HTMLElement
  /** Told why a file was not attached. */
  onError: (message: string) => void
}

export interface ImageAttachment {
  /** True while a chosen file is still being read; the message should wait for it. */
  readonly reading: boolean
  /** The attached image's `data:` URL, if any, removing it from the composer. */
  take(): string | undefined
}

/**
 * @example
 * ```ts
 * const attachment = createImageAttachment({ input, button, preview, onError: (m) => (status.textContent = m) })
 * const content = messageContent(prompt.value, attachment.take())
 * ```
 */
export function createImageAttachment({ input, button, preview, onError }: ImageAttachmentElements): ImageAttachment {
  input.accept = ACCEPTED_TYPES.join(',')
  const thumbnail = preview.querySelector('img')!
  let url: string | undefined
  let reading = false

  function show(next: string | undefined) {
    url = next
    preview.hidden = !url
    if (url) thumbnail.src = url
    else thumbnail.removeAttribute('src')
  }

  button.addEventListener('click', () => input.click())
  preview.querySelector('button')!.addEventListener('click', () => {
    show(undefined)
    button.focus()
  })
  input.addEventListener('change', async () => {
    const file = input.files?.[0]
    input.value = '' // so choosing the same file again still fires `change`
    if (!file) return
    if (!ACCEPTED_TYPES.includes(file.type)) {
      return onError(`“${file.name}” is not an image the models take (PNG, JPEG, WebP or GIF).`)
    }
    reading = true
    try {
      show(await readAsDataUrl(file))
    } catch {
      onError(`Could not read “${file.name}”.`)
    } finally {
      reading = false
    }
  })

  return {
    get reading() {
      return reading
    },
    take() {
      const taken = url
      show(undefined)
      return taken
    },
  }
}

/** A message's content: plain text, or text and an image as content parts. */
export function messageContent(text: string, imageUrl: string | undefined): string | ContentPart[] {
  if (!imageUrl) return text
  return [
    { type: 'text', text },
    { type: 'image_url', image_url: { url: imageUrl } },
  ]
}

/** Shows an attached image as a thumbnail in the user's message on the page. */
export function showAttachedImage(item: HTMLElement, imageUrl: string): void {
  const image = document.createElement('img')
  image.className = 'attached-image'
  image.alt = 'Attached image'
  image.src = imageUrl
  item.prepend(image)
}

function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result as string)
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })
}
