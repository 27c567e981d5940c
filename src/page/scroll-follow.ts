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
  /** Where the page itself last scrolled to: the scroll event that follows is not the reader's. */
  let scrolledTo = -1
  const atEnd = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= AT_END_PX
  const showJump = () => (jump.hidden = following || atEnd())
  const scrollToEnd = () => {
    scroller.scrollTop = scroller.scrollHeight
    scrolledTo = scroller.scrollTop
  }

  function toEnd() {
    following = true
    scrollToEnd()
    showJump()
  }

  // A scroll the reader made (wheel, touch, keys, scrollbar) decides whether to keep following.
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop !== scrolledTo) following = atEnd()
    scrolledTo = -1
    showJump()
  })
  new ResizeObserver(() => {
    if (following) scrollToEnd()
    showJump()
  }).observe(content)
  jump.addEventListener('click', () => {
    toEnd()
    // The button disappears; the conversation's end is where the keyboard user wanted to go.
    scroller.focus({ preventScroll: true })
  })
  return { toEnd }
}
