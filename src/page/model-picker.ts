/**
 * The model picker, fed by `GET /api/models` with the page's key: the models that key (or an
 * anonymous caller) may use, then the other configured ones, marked as needing a key, so a
 * model added to `MODELS` is never silently missing.
 */
import { authHeaders } from './api-key'

export interface ModelPicker {
  readonly value: string
  /** Chooses a model, if the list has it. */
  select(model: string): void
  /** Loads the list for the current key; resolves to an error message when it could not. */
  load(): Promise<string | undefined>
}

export function createModelPicker(select: HTMLSelectElement, onChange: (model: string) => void): ModelPicker {
  let wanted: string | undefined
  select.addEventListener('change', () => {
    wanted = select.value
    onChange(select.value)
  })

  return {
    get value() {
      return select.value
    },
    select(model) {
      wanted = model
      if ([...select.options].some((option) => option.value === model)) select.value = model
    },
    async load() {
      const response = await fetch('/api/models', { headers: authHeaders() }).catch(() => undefined)
      if (!response?.ok) {
        if (response?.status === 401) return 'The gateway did not accept this API key.'
        return 'Could not load the list of models.'
      }
      const list = (await response.json()) as { default: string | null; models: string[]; locked?: string[] }
      const previous = wanted ?? select.value
      const locked = list.locked ?? []
      select.replaceChildren(
        ...list.models.map((name) => new Option(name, name)),
        ...locked.map((name) => new Option(`${name} (needs a key)`, name)),
      )
      const all = [...list.models, ...locked]
      select.value = previous && all.includes(previous) ? previous : (list.default ?? all[0] ?? '')
      return undefined
    },
  }
}
