/**
 * "Working…" under an answer while the model says nothing: from sending until the first token,
 * and again whenever it falls silent mid-answer (a model thinking before it goes on, a slow
 * upstream), with how long it has been once that is long enough to wonder. Heartbeats keep the
 * connection open but are not the model speaking, so only text and reasoning count as heard.
 *
 * Screen readers are told once, politely, by the page's status (chat-page.ts): a count ticking
 * every second would be read out every second, so this text is hidden from them.
 */
const SILENCE_MS = 1500
const SHOW_SECONDS_AFTER_MS = 3000
const TICK_MS = 250

export interface WorkingIndicator {
  readonly element: HTMLElement
  /** The model said something: the silence, if any, is over. */
  heard(): void
  /** Starts (or stops) watching for silence: while the answer waits on the model. */
  watch(on: boolean): void
}

export function createWorkingIndicator(): WorkingIndicator {
  const element = document.createElement('p')
  element.className = 'working'
  element.setAttribute('aria-hidden', 'true')
  element.hidden = true
  let since = Date.now()
  let heardAnything = false
  let timer: ReturnType<typeof setInterval> | undefined

  function tick() {
    const quiet = Date.now() - since
    element.hidden = heardAnything && quiet < SILENCE_MS
    if (element.hidden) return
    const words = heardAnything ? 'Still working…' : 'Working…'
    element.textContent = quiet < SHOW_SECONDS_AFTER_MS ? words : `${words} ${duration(quiet)}`
  }

  return {
    element,
    heard() {
      since = Date.now()
      heardAnything = true
      element.hidden = true
    },
    watch(on) {
      if (on && timer === undefined) {
        timer = setInterval(tick, TICK_MS)
        tick()
      } else if (!on) {
        clearInterval(timer)
        timer = undefined
        element.hidden = true
      }
    },
  }
}

/** "6 s", "2 min 5 s": whole seconds, as a person counts them. */
export function duration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}
