// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { actorTap } from "../actor-inspector/fixtures.ts"
import { FakeWebSocket, fakeFetch, me, testClient, waitFor } from "../shared/testing.ts"
import type { ObserveStats, Tap } from "./admin.ts"
import { ApiError } from "./rest.ts"
import "./admin.ts"

afterEach(() => {
  FakeWebSocket.instances = []
})

const signedIn = () => fakeFetch({
  "GET /auth/session": { body: { user: me("root") } },
  "GET /admin/actors/timeline/u%201": { body: { kind: "timeline", key: "u 1" } },
  "GET /admin/actors": { status: 403, body: { error: { code: "Forbidden", message: "admins only" } } }
})

describe("client.admin", () => {
  it("asks for the overview and one actor, and surfaces a 403 as ApiError Forbidden", async () => {
    const calls = signedIn()
    const client = testClient()
    const refused = await client.admin.actors({ limit: 5 }).then(() => null, (e: unknown) => e)
    assert.instanceOf(refused, ApiError)
    assert.deepStrictEqual([(refused as ApiError).status, (refused as ApiError).code], [403, "Forbidden"])
    await client.admin.actor("timeline", "u 1")
    assert.deepStrictEqual(calls.map((c) => c.path), ["/admin/actors?limit=5", "/admin/actors/timeline/u%201"])
  })

  it("observes once the socket opens and again after every reconnect; stop unobserves", async () => {
    signedIn()
    const client = testClient()
    const taps: Array<Tap> = []
    const stats: Array<ObserveStats> = []
    const observing: Array<number> = []
    const stop = client.admin.observe({ kinds: ["timeline"] }, (t) => taps.push(t), (s) => stats.push(s), { onObserving: (o) => observing.push(o.maxPerSecond) })
    await waitFor(() => FakeWebSocket.instances.length === 1)
    const first = FakeWebSocket.last
    first.open()
    assert.deepStrictEqual(first.sent, [{ type: "observe", payload: { kinds: ["timeline"] } }])
    first.frame("observing", { filter: { kinds: ["timeline"] }, maxPerSecond: 100 })
    first.frame("observed", actorTap())
    first.frame("observe_stats", { perKind: { timeline: 1 }, perEvent: {}, sent: 1, dropped: 0 })
    assert.deepStrictEqual([taps.length, stats.length, observing], [1, 1, [100]])
    first.drop()
    await waitFor(() => FakeWebSocket.instances.length === 2, 5000)
    FakeWebSocket.last.open()
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "observe", payload: { kinds: ["timeline"] } }])
    stop()
    assert.deepStrictEqual(FakeWebSocket.last.sent.slice(1), [{ type: "unobserve", payload: {} }])
    assert.strictEqual(client.socket.status, "idle", "nobody else listened: the socket closes with the tail")
  })

  it("a later observe replaces an earlier one, which then hears nothing and stops without unobserving; taps of the old filter are not the new one's", async () => {
    signedIn()
    const client = testClient()
    const a: Array<Tap> = []
    const b: Array<Tap> = []
    const stopA = client.admin.observe({}, (t) => a.push(t), () => undefined)
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.frame("observing", { filter: {}, maxPerSecond: 100 })
    FakeWebSocket.last.frame("observed", actorTap())
    const stopB = client.admin.observe({ keys: ["u1"] }, (t) => b.push(t), () => undefined)
    stopA()
    // in flight before the server took B's filter: it matched A's
    FakeWebSocket.last.frame("observed", actorTap("timeline", "u9"))
    FakeWebSocket.last.frame("observing", { filter: { keys: ["u1"] }, maxPerSecond: 100 })
    FakeWebSocket.last.frame("observed", actorTap("timeline", "u1"))
    assert.deepStrictEqual([a.length, b.length], [1, 1])
    assert.strictEqual((b[0] as { key: string }).key, "u1")
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "observe", payload: {} }, { type: "observe", payload: { keys: ["u1"] } }])
    assert.isTrue(client.socket.connected, "B still listens")
    stopB()
    assert.deepStrictEqual(FakeWebSocket.last.sent.at(-1), { type: "unobserve", payload: {} })
  })

  it("reports the error answering an observe, and Forbidden whenever it comes, but not other frames' errors", async () => {
    signedIn()
    const client = testClient()
    const errors: Array<string> = []
    const stop = client.admin.observe({ events: ["post.*"] }, () => undefined, () => undefined, { onError: (e) => errors.push(`${e.status} ${e.code}`) })
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.frame("error", { code: "BadRequest", message: "no" })
    FakeWebSocket.last.frame("error", { code: "RateLimited", message: "typing too fast" })
    FakeWebSocket.last.frame("error", { code: "Forbidden", message: "admins only" })
    assert.deepStrictEqual(errors, ["400 BadRequest", "403 Forbidden"])
    stop()
  })
})
