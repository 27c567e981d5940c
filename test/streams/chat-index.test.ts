import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { chatIndexName, type ChatIndex } from '../../src/streams/chat-index'

function index(principal: string, chatId: string) {
  const namespace = env.CHAT_INDEX!
  return namespace.get(namespace.idFromName(chatIndexName(principal, chatId)))
}

const HOUR = 3_600_000

describe('the ChatIndex object', () => {
  it('knows a chat’s active answer, and returns the one a new answer replaces', async () => {
    const chat = index('anonymous', 'chat-a')
    expect(await chat.active()).toBeNull()
    expect(await chat.activate('stream-1', Date.now() + HOUR)).toBeNull()
    expect(await chat.active()).toBe('stream-1')
    expect(await chat.activate('stream-2', Date.now() + HOUR)).toBe('stream-1')
    expect(await chat.active()).toBe('stream-2')
  })

  it('is per principal: the same chat id names nothing of another principal’s', async () => {
    await index('alice', 'shared-id').activate('alice-stream', Date.now() + HOUR)
    expect(await index('bob', 'shared-id').active()).toBeNull()
    expect(await index('alice', 'shared-id').active()).toBe('alice-stream')
  })

  it('names (principal, chat id) pairs so that no choice of characters makes two collide', () => {
    const names = [
      chatIndexName('a', 'b:c'),
      chatIndexName('a:b', 'c'),
      chatIndexName('a","b', 'c'),
      chatIndexName('a', 'b","c'),
      chatIndexName('', 'ab'),
      chatIndexName('ab', ''),
    ]
    expect(new Set(names).size).toBe(names.length)
  })

  it('forgets a chat once its answer has expired: nothing is active, and the alarm leaves no storage', async () => {
    const chat = index('anonymous', 'chat-expiring')
    await chat.activate('stream-old', Date.now() + 5)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await chat.active()).toBeNull()
    await runDurableObjectAlarm(chat)
    const keys = await runInDurableObject(chat, async (_: ChatIndex, state) => (await state.storage.list()).size)
    expect(keys).toBe(0)
  })

  it('keeps a chat whose latest answer has not expired when an earlier alarm fires', async () => {
    const chat = index('anonymous', 'chat-renewed')
    await chat.activate('stream-1', Date.now() + 5)
    await chat.activate('stream-2', Date.now() + HOUR)
    await new Promise((resolve) => setTimeout(resolve, 10))
    await runDurableObjectAlarm(chat)
    expect(await chat.active()).toBe('stream-2')
  })
})
