/**
 * The settings dialog: the API key field. A native `<dialog>` opened as a modal, so focus moves
 * into it, stays there, and returns to whatever opened it; Escape closes it.
 */
import { apiKey } from './api-key'

export interface SettingsDialog {
  /**
   * Opens the dialog, saying why when the page asks for a key (a model that needs one);
   * `afterSave` runs once a key has been saved and accepted (to send the refused message again).
   */
  open(reason?: string, afterSave?: () => void): void
}

/**
 * @param check loads the models a key allows, before it is kept (an empty key: the anonymous
 *   list); resolves to an error message when the gateway did not accept the key
 */
export function createSettingsDialog(check: (key: string) => Promise<string | undefined>): SettingsDialog {
  const dialog = document.getElementById('settings') as HTMLDialogElement
  const form = document.getElementById('settings-form') as HTMLFormElement
  const field = document.getElementById('api-key') as HTMLInputElement
  const reason = document.getElementById('settings-reason')!
  const error = document.getElementById('settings-error')!
  const keyState = document.getElementById('key-state')!
  const save = document.getElementById('save-key') as HTMLButtonElement

  const showKeyState = () => (keyState.textContent = apiKey.get() ? 'API key: set' : 'API key')
  const showError = (message: string | undefined) => {
    error.hidden = !message
    error.textContent = message ?? ''
  }
  showKeyState()
  let afterSave: (() => void) | undefined

  /**
   * A key is kept only once the gateway has accepted it: a rejected key, saved, would empty the
   * picker after a reload and make every request fail with a 401.
   */
  async function apply(value: string) {
    const key = value.trim()
    save.disabled = true
    showError(undefined)
    const problem = await check(key).finally(() => (save.disabled = false))
    if (problem) {
      const kept = apiKey.get() ? ' The key saved before is still in use.' : ''
      showError(key ? `${problem} It was not saved.${kept}` : problem)
      return field.focus()
    }
    apiKey.set(key)
    showKeyState()
    const then = afterSave
    dialog.close()
    if (key) then?.()
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void apply(field.value)
  })
  document.getElementById('forget-key')!.addEventListener('click', () => {
    field.value = ''
    void apply('')
  })
  document.getElementById('cancel-settings')!.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => (afterSave = undefined))

  return {
    open(why, then) {
      afterSave = then
      field.value = apiKey.get() ?? ''
      reason.hidden = !why
      reason.textContent = why ?? ''
      showError(undefined)
      dialog.showModal()
      field.focus()
    },
  }
}
