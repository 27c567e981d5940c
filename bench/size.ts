/** How big a run is: the full benchmark, or `--smoke`'s tiny sizes that only keep it working. */
export interface Size {
  smoke: boolean
  /** Rounds of the streaming figures: every contender once per round, in rotated order. */
  rounds: number
  /** Rounds of the memory figure, each contender in a fresh process per round. */
  memoryRounds: number
  /** Tokens in a burst, sent as fast as the socket takes them. */
  tokens: number
  pacedTokens: number
  paceMs: number
  /** Idle streams held open for the memory figure, and for how long. */
  streams: number
  holdMs: number
  /** Replays of a finished answer per round (resumable streams, stored responses). */
  replays: number
  /** Tokens of the answer paced at 50 a second (resumable streams' storage rows). */
  at50: number
}

export function sizeFromArgs(argv: string[]): Size {
  const smoke = argv.includes('--smoke')
  const arg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const size: Size = smoke
    ? {
        smoke,
        rounds: 2,
        memoryRounds: 1,
        tokens: 200,
        pacedTokens: 30,
        paceMs: 5,
        streams: 20,
        holdMs: 2500,
        replays: 3,
        at50: 50,
      }
    : {
        smoke,
        rounds: 5,
        memoryRounds: 5,
        tokens: 10_000,
        pacedTokens: 1000,
        paceMs: 5,
        streams: 1000,
        holdMs: 3000,
        replays: 50,
        at50: 1000,
      }
  // `--rounds=N`: more rounds (or fewer, to try something out) for both the streaming and memory figures.
  if (arg('rounds')) size.rounds = size.memoryRounds = Number(arg('rounds'))
  // `--streams=N`: fewer idle streams for the memory figure, on a machine too loaded to open 1,000 in a minute.
  if (arg('streams')) size.streams = Number(arg('streams'))
  return size
}
