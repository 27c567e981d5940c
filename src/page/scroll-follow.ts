/**
 * Keeps the newest text in view while an answer streams, unless the reader has scrolled up to
 * read something earlier: then the view stays where they put it and a "Jump to latest" button
 * appears. Whether to follow is decided by where the reader last left the scroll position, not
 * by the content growing, so a long answer never drags a reader away from what they are reading.
 */
const AT_END_PX = 24

export interface ScrollFollow {
  /** Scrolls to the end and follows from there (after the person sends a message). */
  toEnd(): void
}

export function followScroll(scroller: HTMLElement, content: HTMLElement, jump: HTMLButtonElement): ScrollFollow {
  let following = true
  const atEnd = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= AT_END_PX
  const showJump = () => (jump.hidden = following || atEnd())

  function toEnd() {
    following = true
    scroller.scrollTop = scroller.scrollHeight
    showJump()
  }

  // A scroll the reader made (wheel, touch, keys, scrollbar) decides whether to keep following.
  scroller.addEventListener('scroll', () => {
    following = atEnd()
    showJump()
  })
  new ResizeObserver(() => {
    if (following) scroller.scrollTop = scroller.scrollHeight
    showJump()
  }).observe(content)
  jump.addEventListener('click', () => {
    toEnd()
    // The button disappears; the conversation's end is where the keyboard user wanted to go.
    scroller.focus({ preventScroll: true })
  })
  return { toEnd }
}
