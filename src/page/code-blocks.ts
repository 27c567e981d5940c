/**
 * Code blocks in an answer get a bar with their language and a Copy button, and syntax colours.
 * The button is added after sanitizing, by the page itself, so no attribute of it ever comes from
 * model output. The highlighter is a chunk of its own, loaded the first time a block needs it.
 */

const FEEDBACK_MS = 2000

let highlighter: Promise<typeof import('./highlight')> | undefined

/** Colours a code block once the highlighter has loaded (at once, after the first time). */
function highlightLater(code: HTMLElement, language: string): void {
  highlighter ??= import('./highlight')
  highlighter.then(
    // The block may have been rebuilt by then (the answer went on streaming): colour only what is shown.
    ({ highlight }) => code.isConnected && highlight(code, language),
    () => (highlighter = undefined), // offline for a moment: try again with the next block
  )
}

/**
 * The demo model's `curl` names the address `npm run dev` serves (it cannot know which origin the
 * page came from); the page shows its own origin instead, so the command works as copied.
 */
const DEV_GATEWAY = 'http://localhost:8787/'

function useOwnOrigin(code: HTMLElement): void {
  const own = `${location.origin}/`
  if (own === DEV_GATEWAY || !code.textContent?.includes(`curl -N ${DEV_GATEWAY}`)) return
  code.textContent = code.textContent.replaceAll(DEV_GATEWAY, own)
}

/** Wraps every `<pre>` of freshly rendered Markdown in a `.code-block` with a Copy button. */
export function addCopyButtons(fragment: DocumentFragment): void {
  for (const pre of fragment.querySelectorAll('pre')) {
    const code = pre.querySelector('code')
    const language = code?.className.match(/\blanguage-(\S+)/)?.[1] ?? ''
    const wrapper = document.createElement('div')
    wrapper.className = 'code-block'
    const bar = document.createElement('div')
    bar.className = 'code-bar'
    const label = document.createElement('span')
    label.textContent = language
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'copy'
    button.textContent = 'Copy'
    button.setAttribute('aria-label', language ? `Copy the ${language} code` : 'Copy the code')
    bar.append(label, button)
    // A block wider than the answer scrolls sideways: keyboard users reach it with Tab, then arrows.
    pre.tabIndex = 0
    pre.replaceWith(wrapper)
    wrapper.append(bar, pre)
    if (code && language === 'sh') useOwnOrigin(code)
    if (code && language) highlightLater(code, language.toLowerCase())
  }
}

/** Handles the Copy buttons inside `container`, those there now and those rendered later. */
export function handleCopyButtons(container: HTMLElement): void {
  container.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button.copy')
    const code = button?.closest('.code-block')?.querySelector('code')
    if (!button || !code || button.textContent !== 'Copy') return
    const name = button.getAttribute('aria-label')!
    void copy(code).then((copied) => {
      // The name changes with the text: a name that no longer contains what is shown confuses
      // people who speak to their computer ("click Copied") and fails WCAG's label-in-name.
      const said = copied ? 'Copied' : 'Selected: press Ctrl+C'
      button.textContent = said
      button.setAttribute('aria-label', said)
      setTimeout(() => {
        button.textContent = 'Copy'
        button.setAttribute('aria-label', name)
      }, FEEDBACK_MS)
    })
  })
}

async function copy(code: HTMLElement): Promise<boolean> {
  try {
    // `marked` ends a block's code with a newline the answer did not have.
    await navigator.clipboard.writeText((code.textContent ?? '').replace(/\n$/, ''))
    return true
  } catch {
    // No clipboard access (a page served over plain http, a denied permission): select the code
    // instead, so one keystroke copies it.
    getSelection()?.selectAllChildren(code)
    return false
  }
}
