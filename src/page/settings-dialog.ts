/**
 * The settings dialog: the API key field. A native `<dialog>` opened as a modal, so focus moves
 * into it, stays there, and returns to whatever opened it; Escape closes it.
 */
import { apiKey } from './api-key'

export interface SettingsDialog {
  /** Opens the dialog, saying why when the page asks for a key (a model that needs one). */
  open(reason?: string): void
}

/**
 * @param onChange called after the key was saved or removed, to load the models it allows
 *   (it resolves to an error message when the gateway did not accept the key)
 */
export function createSettingsDialog(onChange: () => Promise<string | undefined>): SettingsDialog {
  const dialog = document.getElementById('settings') as HTMLDialogElement
  const form = document.getElementById('settings-form') as HTMLFormElement
  const field = document.getElementById('api-key') as HTMLInputElement
  const reason = document.getElementById('settings-reason')!
  const error = document.getElementById('settings-error')!
  const keyState = document.getElementById('key-state')!

  const showKeyState = () => (keyState.textContent = apiKey.get() ? 'API key: set' : 'API key')
  const showError = (message: string | undefined) => {
    error.hidden = !message
    error.textContent = message ?? ''
  }
  showKeyState()

  async function apply(value: string) {
    apiKey.set(value.trim())
    showKeyState()
    const problem = await onChange()
    showError(problem)
    if (problem) field.focus()
    else dialog.close()
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

  return {
    open(why) {
      field.value = apiKey.get() ?? ''
      reason.hidden = !why
      reason.textContent = why ?? ''
      showError(undefined)
      dialog.showModal()
      field.focus()
    },
  }
}
