import type { WorkersAIModelConfig } from '../../config/models'
import { GatewayError } from '../../errors'
import type { ProviderAdapter } from '../types'
import { createWorkersAIDecoder } from './decoder'
import { toWorkersAIInputs } from './request'
import { log } from '../../log'

/** The part of the `AI` binding this adapter uses. */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>): Promise<unknown>
}

/**
 * Workers AI through the `AI` binding (`env.AI.run(model, { messages, stream: true })`). The
 * binding only reaches Cloudflare's network: use `wrangler dev --remote` or a deploy to try it.
 */
export function workersAIAdapter(config: WorkersAIModelConfig, binding: AiBinding): ProviderAdapter {
  return {
    async open(request, { signal }) {
      const running = binding.run(config.upstream_model, toWorkersAIInputs(config, request))
      // The binding takes no signal: stop waiting when ours aborts (header timeout, client gone).
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
      let body: unknown
      try {
        body = await Promise.race([running, aborted])
      } catch (error) {
        if (signal.aborted) throw signal.reason
        log.error('workers ai failed', { error: String(error) })
        throw new GatewayError(502, 'upstream_error', 'Workers AI failed to run the model.')
      }
      // A stream that arrives after we stopped waiting is let go of at once.
      running
        .then((late) => {
          if (signal.aborted && late instanceof ReadableStream) void late.cancel()
        })
        .catch(() => {})
      if (!(body instanceof ReadableStream)) {
        throw new GatewayError(502, 'upstream_invalid_response', 'Workers AI did not answer with a stream.')
      }
      return { body: body as ReadableStream<Uint8Array>, decoder: createWorkersAIDecoder() }
    },
  }
}
