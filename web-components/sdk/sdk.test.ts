// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { FakeWebSocket, fakeFetch, me, testClient, waitFor } from "../shared/testing.ts"
import { clientFor } from "./client.ts"
import { Emitter } from "./emitter.ts"
import { ApiError, describeError, RestClient } from "./rest.ts"
import { backoffDelay, LiveSocket } from "./socket.ts"
import "./dm.ts"

afterEach(() => {
  FakeWebSocket.instances = []
})

describe("backoff", () => {
  it("grows exponentially, is capped, and is jittered within [half, full] of the ceiling", () => {
    assert.strictEqual(backoffDelay(0, 500, 30_000, () => 0), 250)
    assert.strictEqual(backoffDelay(0, 500, 30_000, () => 1), 500)
    assert.strictEqual(backoffDelay(3, 500, 30_000, () => 1), 4000)
    assert.strictEqual(backoffDelay(50, 500, 30_000, () => 1), 30_000)
    assert.strictEqual(backoffDelay(50, 500, 30_000, () => 0), 15_000)
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 500, 30_000)))
    assert.isAbove(seen.size, 10, "random jitter spreads retries")
  })
})

describe("LiveSocket", () => {
  it("reconnects after drops, without limit, and resumes from the last inbox sequence seen", async () => {
    const socket = new LiveSocket({ url: () => "ws://x/ws", WebSocket: FakeWebSocket as never, baseDelayMs: 1, maxDelayMs: 4 })
    const likes: Array<number> = []
    socket.on("like", (f) => likes.push(f.payload.likes))
    socket.start()
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.frame("hello", { userId: "u", inboxSeq: 7, connectionId: "c" })
    assert.strictEqual(socket.lastSeq, 7)
    assert.deepStrictEqual(FakeWebSocket.last.sent, [], "a first connection has nothing to resume")
    FakeWebSocket.last.frame("like", { postId: "p", likes: 4, by: { id: "a", username: "a" } }, 9)
    assert.deepStrictEqual(likes, [4])
    assert.strictEqual(socket.lastSeq, 9)
    // ten failed attempts in a row, then a success: it never gives up
    for (let i = 0; i < 10; i++) {
      FakeWebSocket.last.drop()
      const n = FakeWebSocket.instances.length
      await waitFor(() => FakeWebSocket.instances.length === n + 1)
    }
    FakeWebSocket.last.open()
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "resume", payload: { sinceSeq: 9 } }])
    assert.isTrue(socket.connected)
    socket.stop()
    assert.strictEqual(socket.status, "idle")
  })

  it("asks for the URL before every attempt (a ticket is single-use)", async () => {
    let n = 0
    const socket = new LiveSocket({ url: () => `ws://x/ws?ticket=t${++n}`, WebSocket: FakeWebSocket as never, baseDelayMs: 1 })
    socket.start()
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.drop()
    await waitFor(() => FakeWebSocket.instances.length === 2)
    assert.deepStrictEqual(FakeWebSocket.instances.map((w) => w.url), ["ws://x/ws?ticket=t1", "ws://x/ws?ticket=t2"])
    socket.stop()
  })

  it("does not retry after the server closes with 4401 (session ended), and starts again when asked", async () => {
    const socket = new LiveSocket({ url: () => "ws://x/ws", WebSocket: FakeWebSocket as never, baseDelayMs: 1 })
    socket.start()
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.drop(4401)
    assert.strictEqual(socket.status, "idle", "no reconnect is scheduled")
    socket.start()
    await waitFor(() => FakeWebSocket.instances.length === 2)
    socket.stop()
  })
})

describe("RestClient", () => {
  it("sends a bearer token and no cookies when given a token, and reads API errors", async () => {
    const calls = fakeFetch({ "GET /users/ghost": { status: 404, body: { error: { code: "NotFound", message: "no such user" } } } })
    const rest = new RestClient({ api: "https://photos.example/", token: "tok" })
    const error = await rest.profile("ghost").catch((e: unknown) => e)
    assert.instanceOf(error, ApiError)
    assert.strictEqual((error as ApiError).status, 404)
    assert.strictEqual((error as ApiError).code, "NotFound")
    assert.strictEqual((error as ApiError).message, "no such user")
    assert.strictEqual(calls[0]!.headers.authorization, "Bearer tok")
    assert.strictEqual(rest.url("/media/a.webp"), "https://photos.example/media/a.webp")
  })

  it("turns a failed connection into a readable status-0 error", async () => {
    fakeFetch({ "GET /auth/me": "network-error" })
    const error = await new RestClient().me().catch((e: unknown) => e)
    assert.strictEqual((error as ApiError).status, 0)
    assert.match(describeError(error), /Could not reach Aperture/)
    assert.match(describeError(new ApiError(413, "PayloadTooLarge", "")), /too large/)
    assert.match(describeError(new ApiError(415, "UnsupportedMediaType", "")), /not supported/)
  })
})

describe("ApertureClient", () => {
  it("is shared per origin and token, and opens the socket only for a signed-in listener", async () => {
    assert.strictEqual(clientFor("https://a.example", "t"), clientFor("https://a.example", "t"))
    assert.notStrictEqual(clientFor("https://a.example", "t"), clientFor("https://a.example", "u"))
    fakeFetch({ "GET /auth/session": { body: { user: null } } })
    const anonymous = testClient()
    const release = anonymous.listen()
    await anonymous.session()
    await new Promise((r) => setTimeout(r, 20))
    assert.strictEqual(FakeWebSocket.instances.length, 0)
    release()
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const client = testClient()
    const release2 = client.listen()
    await waitFor(() => FakeWebSocket.instances.length === 1)
    assert.match(FakeWebSocket.last.url, /\/ws$/)
    release2()
    assert.strictEqual(client.socket.status, "idle")
  })

  it("emitter: typed listeners and unsubscribe", () => {
    const e = new Emitter<{ n: number }>()
    const got: Array<number> = []
    const off = e.on("n", (v) => got.push(v))
    e.emit("n", 1)
    off()
    e.emit("n", 2)
    assert.deepStrictEqual(got, [1])
    assert.strictEqual(e.listenerCount("n"), 0)
  })
})

describe("DmClient", () => {
  it("calls the DM endpoints and sends the typing frame on the live socket", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "POST /conversations/c%2F1/messages/4/reactions": { body: { reactions: [] } },
      "GET /conversations/c1/messages": { body: { items: [], nextCursor: null, hasMore: false, newerCursor: null, hasNewer: false } },
      "POST /conversations": { status: 201, body: {} }
    })
    const client = testClient()
    await client.dm.start(["bob"])
    await client.dm.messages("c1", { cursor: "x y", limit: 20 })
    await client.dm.react("c/1", 4, "❤️")
    assert.deepStrictEqual(calls.map((c) => `${c.method} ${c.path}`), [
      "POST /conversations",
      "GET /conversations/c1/messages?cursor=x+y&limit=20",
      "POST /conversations/c%2F1/messages/4/reactions"
    ])
    assert.deepStrictEqual(calls[0]!.body, { memberUsernames: ["bob"] })
    assert.isFalse(client.dm.typing("c1"), "nothing is queued while the socket is down")
    const release = client.listen()
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    const typing: Array<string> = []
    client.socket.on("typing", (f) => typing.push(f.payload.user.username))
    assert.isTrue(client.dm.typing("c1"))
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "typing", payload: { conversationId: "c1" } }])
    FakeWebSocket.last.frame("typing", { conversationId: "c1", user: { id: "a", username: "alice" }, expiresInMs: 5000 })
    assert.deepStrictEqual(typing, ["alice"])
    release()
  })
})
