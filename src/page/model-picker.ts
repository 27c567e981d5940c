/**
 * The model picker, fed by `GET /api/models` with the page's key: the models that key (or an
 * anonymous caller) may use, then the other configured ones, so a model added to `MODELS` is
 * never silently missing. Without a key those are marked as needing one (choosing one asks for
 * it); with a key they are marked as not available with it and cannot be chosen. Models whose
 * upstream is not set up (`unavailable`: no API key on the gateway) are left out: they could
 * only fail.
 */
import { apiKey } from './api-key'

export interface ModelPicker {
  readonly value: string
  /** The longest message the gateway takes, in characters (once the list has loaded). */
  readonly maxMessageChars: number
  /** Chooses a model, if the list has it. */
  select(model: string): void
  /**
   * Loads the list for `key` (default: the key kept in this browser, if any); resolves to an
   * error message when it could not, and leaves the list as it was.
   */
  load(key?: string): Promise<string | undefined>
}

interface ModelList {
  default: string | null
  models: string[]
  locked?: string[]
  unavailable?: string[]
  max_message_chars?: number
}

/** The gateway's own default (MAX_MESSAGE_CHARS), until the list says otherwise. */
const DEFAULT_MAX_MESSAGE_CHARS = 32 * 1024

export function createModelPicker(select: HTMLSelectElement, onChange: (model: string) => void): ModelPicker {
  let wanted: string | undefined
  let maxMessageChars = DEFAULT_MAX_MESSAGE_CHARS
  select.addEventListener('change', () => {
    wanted = select.value
    onChange(select.value)
  })

  return {
    get value() {
      return select.value
    },
    get maxMessageChars() {
      return maxMessageChars
    },
    select(model) {
      wanted = model
      if ([...select.options].some((option) => option.value === model)) select.value = model
    },
    async load(key = apiKey.get()) {
      const headers: Record<string, string> = key ? { Authorization: `Bearer ${key}` } : {}
      const response = await fetch('/api/models', { headers }).catch(() => undefined)
      if (!response?.ok) {
        if (response?.status === 401) return 'The gateway did not accept this API key.'
        return 'Could not load the list of models. Check the connection and reload the page.'
      }
      const list = (await response.json()) as ModelList
      const unavailable = new Set(list.unavailable ?? [])
      const usable = list.models.filter((name) => !unavailable.has(name))
      const locked = (list.locked ?? []).filter((name) => !unavailable.has(name))
      const previous = wanted ?? select.value
      select.replaceChildren(
        ...usable.map((name) => new Option(name, name)),
        ...locked.map((name) => {
          const option = new Option(key ? `${name} (not available with this key)` : `${name} (needs a key)`, name)
          option.disabled = Boolean(key)
          return option
        }),
      )
      const choosable = key ? usable : [...usable, ...locked]
      const fallback = list.default && usable.includes(list.default) ? list.default : usable[0]
      select.value = previous && choosable.includes(previous) ? previous : (fallback ?? '')
      maxMessageChars = list.max_message_chars ?? DEFAULT_MAX_MESSAGE_CHARS
      return undefined
    },
  }
}
