/**
 * One assistant answer on the page: its state, its reasoning in a collapsible "thinking"
 * section, and its text rendered as Markdown.
 *
 * Text arrives a token at a time, far more often than a screen refreshes, so appending only
 * records it; the DOM is brought up to date at most once per animation frame, and at once when
 * the answer reaches a state (so the final text is on the page when the state says finished).
 */
import { addCopyButtons, handleCopyButtons } from './code-blocks'
import { createMarkdownRenderer } from './markdown'
import { createWorkingIndicator } from './working-indicator'

/** What an answer on the page is doing; each state has its own text, so no two can be confused. */
export type AnswerState =
  'waiting' | 'streaming' | 'reconnecting' | 'finished' | 'stopped' | 'failed' | 'connection-lost' | 'refused'

/**
 * Shown under the answer. A finished answer needs no label (its Copy and Regenerate buttons say
 * it is done), a streaming one has the Stop button, and a waiting one the working indicator:
 * each state is shown once, in one place. `refused` is a request the gateway turned down before
 * any answer began: nothing is incomplete.
 */
const STATE_TEXT: Record<AnswerState, string> = {
  waiting: '',
  streaming: '',
  reconnecting: 'Connection lost. Reconnecting…',
  finished: '',
  stopped: 'Stopped by you. The answer is incomplete.',
  failed: 'Failed. The answer is incomplete.',
  'connection-lost': 'Connection lost. The answer is incomplete.',
  refused: 'Refused by the gateway; no answer was started.',
}

/** The states an answer ends in. */
export const isEnded = (state: AnswerState) => !['waiting', 'streaming', 'reconnecting'].includes(state)

export interface AnswerView {
  /** The answer's text exactly as received, for the conversation's history. */
  readonly text: string
  readonly reasoning: string
  readonly state: AnswerState
  /** The label's detail: the gateway's message, a length cut. */
  readonly detail: string
  /** Adds answer text; text or reasoning moves a waiting (or reconnecting) answer to streaming. */
  appendText(text: string): void
  appendReasoning(text: string): void
  /** Shows the state, after rendering everything received so far. */
  setState(state: AnswerState, detail?: string): void
}

export interface AnswerViewOptions {
  /** Told every state the answer enters, with its label. */
  onStateChange?: (state: AnswerState, label: string) => void
}

/**
 * Turns an empty list item into an answer view.
 *
 * @example
 * ```ts
 * const answer = createAnswerView(item, { onStateChange: (state, label) => console.log(state, label) })
 * for await (const event of streamChat(request)) {
 *   if (event.event === 'reasoning') answer.appendReasoning(event.data.text)
 *   if (event.event === 'delta') answer.appendText(event.data.text)
 * }
 * answer.setState('finished')
 * ```
 */
export function createAnswerView(item: HTMLElement, { onStateChange }: AnswerViewOptions = {}): AnswerView {
  const body = document.createElement('div')
  body.className = 'text markdown'
  const label = document.createElement('p')
  label.className = 'state'
  const working = createWorkingIndicator()
  item.append(body, working.element, label)
  handleCopyButtons(body)
  const markdown = createMarkdownRenderer(body, (fragment) => {
    addCopyButtons(fragment)
    // A table wider than the answer scrolls sideways: keyboard users reach it with Tab, then arrows.
    for (const table of fragment.querySelectorAll('table')) table.tabIndex = 0
  })

  let text = ''
  let reasoning = ''
  let renderedText = ''
  let renderedReasoning = ''
  let thinking: { summary: HTMLElement; content: Text } | undefined
  let thinkingNow = false
  let state: AnswerState = 'waiting'
  let detail = ''
  let frame = 0
  let renders = 0

  function received() {
    working.heard()
    if (state === 'waiting' || state === 'reconnecting') setState('streaming')
    frame ||= requestAnimationFrame(render)
  }

  function render() {
    cancelAnimationFrame(frame)
    frame = 0
    const summary = thinkingNow ? 'Thinking…' : 'Thoughts'
    const summaryShown = !thinking || thinking.summary.textContent === summary
    if (text === renderedText && reasoning === renderedReasoning && summaryShown) return
    if (reasoning !== renderedReasoning) {
      thinking ??= createThinkingSection(item, body)
      // Reasoning only grows: adding to one text node keeps a reader's selection in place.
      thinking.content.appendData(reasoning.slice(renderedReasoning.length))
      renderedReasoning = reasoning
    }
    if (text !== renderedText) {
      markdown.render(text)
      renderedText = text
    }
    if (thinking) thinking.summary.textContent = summary
    // Counted for the browser test that checks renders are coalesced; cheap to keep.
    body.dataset.renders = String(++renders)
  }

  function setState(next: AnswerState, why = '') {
    state = next
    detail = why
    if (state !== 'streaming') thinkingNow = false
    // Waiting and streaming wait on the model; a reconnecting answer says so in its label instead.
    working.watch(state === 'waiting' || state === 'streaming')
    render()
    item.dataset.state = state
    label.textContent = [STATE_TEXT[state], detail].filter(Boolean).join(' ')
    label.hidden = !label.textContent
    onStateChange?.(state, label.textContent)
  }

  setState('waiting')
  return {
    get text() {
      return text
    },
    get reasoning() {
      return reasoning
    },
    get state() {
      return state
    },
    get detail() {
      return detail
    },
    appendText(delta) {
      text += delta
      thinkingNow = false
      received()
    },
    appendReasoning(delta) {
      reasoning += delta
      thinkingNow = true
      received()
    },
    setState,
  }
}

function createThinkingSection(item: HTMLElement, before: HTMLElement) {
  const details = document.createElement('details')
  details.className = 'reasoning'
  const summary = document.createElement('summary')
  const box = document.createElement('div')
  box.className = 'reasoning-text'
  const content = document.createTextNode('')
  box.append(content)
  details.append(summary, box)
  item.insertBefore(details, before)
  return { summary, content }
}
