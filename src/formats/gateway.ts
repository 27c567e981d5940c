import type { ReplayEncoder } from '../events/encoders'
import { EVENT_STREAM_HEADERS } from '../sse/headers'
import { encodeEvent, encodeRetry, HEARTBEAT } from '../sse/encode'
import { liveThroughReplay } from './adapters'
import type { CommonOptions, WireFormat } from './types'

/**
 * The gateway's own events (`/api/chat`, `/api/streams`): the `retry:` hint, then each event as
 * `id`, `event` and `data` (our JSON), numbered from 1. Live and stored answers carry the same
 * ids, which is what lets a reader resume with `Last-Event-ID`.
 */
export const gatewayFormat: WireFormat = {
  headers: EVENT_STREAM_HEADERS,
  live: (options) => liveThroughReplay(gatewayReplay(options)),
  replay: gatewayReplay,
}

function gatewayReplay({ retryMs }: CommonOptions): ReplayEncoder {
  return {
    preamble: encodeRetry(retryMs),
    heartbeat: HEARTBEAT,
    encode(events) {
      let out = ''
      for (const { id, event, data } of events) out += encodeEvent(id, event, data)
      return out
    },
  }
}
