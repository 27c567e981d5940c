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

/** What an answer on the page is doing; each state has its own text, so no two can be confused. */
export type AnswerState =
  'waiting' | 'streaming' | 'reconnecting' | 'finished' | 'stopped' | 'failed' | 'connection-lost'

const STATE_TEXT: Record<AnswerState, string> = {
  waiting: 'Waiting for the first token…',
  streaming: 'Streaming…',
  reconnecting: 'Connection lost. Reconnecting…',
  finished: 'Finished.',
  stopped: 'Stopped by you. The answer is incomplete.',
  failed: 'Failed. The answer is incomplete.',
  'connection-lost': 'Connection lost. The answer is incomplete.',
}

export interface AnswerView {
  /** The answer's text exactly as received, for the conversation's history. */
  readonly text: string
  readonly state: AnswerState
  /** Adds answer text; text or reasoning moves a waiting (or reconnecting) answer to streaming. */
  appendText(text: string): void
  appendReasoning(text: string): void
  /** Shows the state, after rendering everything received so far. */
  setState(state: AnswerState, detail?: string): void
}

export interface AnswerViewOptions {
  /** Told the label of every state the answer enters, to echo it elsewhere (a status line). */
  onStateChange?: (label: string) => void
}

/**
 * Turns an empty list item into an answer view.
 *
 * @example
 * ```ts
 * const answer = createAnswerView(item, { onStateChange: (label) => (status.textContent = label) })
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
  const label = document.createElement('span')
  label.className = 'state'
  item.append(body, label)
  handleCopyButtons(body)
  const markdown = createMarkdownRenderer(body, addCopyButtons)

  let text = ''
  let reasoning = ''
  let renderedText = ''
  let renderedReasoning = ''
  let thinking: { summary: HTMLElement; content: Text } | undefined
  let thinkingNow = false
  let state: AnswerState = 'waiting'
  let frame = 0
  let renders = 0

  function received() {
    if (state === 'waiting' || state === 'reconnecting') setState('streaming')
    frame ||= requestAnimationFrame(render)
  }

  function render() {
    cancelAnimationFrame(frame)
    frame = 0
    const summary = thinkingNow ? 'Thinking…' : 'Thoughts'
    const summaryShown = !thinking || thinking.summary.textContent === summary
    if (text === renderedText && reasoning === renderedReasoning && summaryShown) return
    const followingTheEnd = innerHeight + scrollY >= document.documentElement.scrollHeight - 48
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
    if (followingTheEnd) item.scrollIntoView({ block: 'end' })
  }

  function setState(next: AnswerState, detail?: string) {
    state = next
    if (state !== 'streaming') thinkingNow = false
    render()
    item.dataset.state = state
    label.textContent = detail ? `${STATE_TEXT[state]} ${detail}` : STATE_TEXT[state]
    onStateChange?.(label.textContent)
  }

  setState('waiting')
  return {
    get text() {
      return text
    },
    get state() {
      return state
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
