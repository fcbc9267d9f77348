// @vitest-environment happy-dom
import { assert, describe, it } from "vitest"
import type { Message } from "../sdk/dm.ts"
import { ApiError } from "../sdk/rest.ts"
import { dmMessage, waitFor } from "../shared/testing.ts"
import { memoryOutbox, type OutboxEntry, OutboxSender, retryable, type SendState } from "./outbox.ts"

const entry = (clientId: string, writtenAt: number): OutboxEntry => ({
  clientId,
  userId: "u",
  conversationId: "c1",
  text: clientId,
  replyToSeq: null,
  mediaUploadId: null,
  writtenAt
})

describe("OutboxSender", () => {
  it("sends in the order written, skips past a refusal, and waits out a network failure before retrying", async () => {
    const store = memoryOutbox()
    await store.put(entry("b", 2))
    await store.put(entry("a", 1))
    await store.put(entry("c", 3))
    const attempts: Array<string> = []
    const states: Array<string> = []
    let offline = true
    const sent: Array<string> = []
    const sender = new OutboxSender(
      {
        store,
        send: async (e) => {
          attempts.push(e.clientId)
          if (e.clientId === "a") throw new ApiError(422, "Unprocessable", "too long")
          if (offline) throw new ApiError(0, "NetworkError", "down")
          return dmMessage("c1", attempts.length, "u", { clientId: e.clientId }) as Message
        },
        sent: (e) => void sent.push(e.clientId),
        state: (clientId: string, state: SendState) => void states.push(`${clientId}:${state}`),
        baseDelayMs: 20,
        maxDelayMs: 40
      },
      () => store.list("u", "c1")
    )
    sender.kick()
    await waitFor(() => states.includes("c:waiting"))
    assert.deepStrictEqual(attempts.slice(0, 2), ["a", "b"], "oldest first")
    assert.includeMembers(states, ["a:failed", "b:waiting", "c:waiting"])
    offline = false
    await waitFor(() => sent.length === 2)
    assert.deepStrictEqual(sent, ["b", "c"])
    assert.deepStrictEqual((await store.list("u", "c1")).map((e) => e.clientId), ["a"], "a refusal stays until retried or discarded")
    assert.notInclude(attempts.slice(2), "a", "a refused entry is not retried on its own")
    sender.retry("a")
    await waitFor(() => attempts.filter((x) => x === "a").length === 2)
    sender.stop()
  })

  it("treats no answer, 503 and 429 as worth retrying, and other refusals as final", () => {
    assert.isTrue(retryable(new ApiError(0, "NetworkError", "")))
    assert.isTrue(retryable(new ApiError(503, "ServiceUnavailable", "")))
    assert.isTrue(retryable(new ApiError(429, "RateLimited", "")))
    assert.isFalse(retryable(new ApiError(400, "BadRequest", "")))
    assert.isFalse(retryable(new ApiError(404, "NotFound", "")))
  })
})
