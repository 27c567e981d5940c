/**
 * Calls `onQuiet` each time `ms` pass without a `touch()`. Touching only stores a timestamp, so it
 * is cheap enough for every chunk of a stream; the timer re-arms itself for the time remaining.
 */
export class Watchdog {
  #last = Date.now()
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly ms: number,
    private readonly onQuiet: () => void,
  ) {
    this.#arm(ms)
  }

  touch(): void {
    this.#last = Date.now()
  }

  stop(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const quiet = Date.now() - this.#last
      if (quiet < this.ms) return this.#arm(this.ms - quiet)
      this.#last = Date.now()
      this.onQuiet()
      // onQuiet may have stopped us.
      if (this.#timer !== undefined) this.#arm(this.ms)
    }, delay)
  }
}
