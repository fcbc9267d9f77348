// @vitest-environment happy-dom
import { afterEach, assert, describe, it, vi } from "vitest"
import { FakeWebSocket, fakeFetch, me, mount, post, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./feed.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

const page = (ids: Array<string>, nextCursor: string | null = null) => ({
  body: { items: ids.map((id) => post(id)), nextCursor, hasMore: nextCursor !== null }
})

describe("ap-feed", () => {
  it("loads the first page and shows a 'new posts' pill on feed_new frames that refreshes the feed", async () => {
    let version = 0
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /feed": () => (version++ === 0 ? page(["a", "b"]) : page(["c", "a", "b"]))
    })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    await waitFor(() => el.items.length === 2)
    assert.deepStrictEqual(calls.filter((c) => c.path.startsWith("/feed")).map((c) => c.path), ["/feed?limit=20"])
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.frame("feed_new", { count: 1, newestPostId: "c" }, 5)
    await el.updateComplete
    FakeWebSocket.last.frame("feed_new", { count: 1, newestPostId: "c" }, 6)
    await el.updateComplete
    const pill = shadow(el).querySelector<HTMLButtonElement>("button.pill")!
    // announced politely, and the second count waits a few seconds instead of interrupting the first
    assert.strictEqual(pill.closest("[aria-live]")!.getAttribute("aria-live"), "polite")
    assert.include(pill.textContent!, "1 new post")
    assert.strictEqual(el.newCount, 2)
    pill.click()
    await waitFor(() => el.items.length === 3)
    await el.updateComplete
    assert.strictEqual(el.items[0]!.id, "c")
    assert.isNull(shadow(el).querySelector("button.pill"))
  })

  it("keeps a post's optimistic change in its list, and like counts live from like frames", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": page(["a"]) })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    await waitFor(() => el.items.length === 1)
    const list = shadow(el).querySelector(".list")!
    list.dispatchEvent(new CustomEvent("ap-post-change", { detail: { post: post("a", { counts: { likes: 99, comments: 0 } } as never) }, bubbles: true, composed: true }))
    assert.strictEqual(el.items[0]!.counts.likes, 99)
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.frame("like", { postId: "a", likes: 100, by: { id: "x", username: "x" } }, 2)
    assert.strictEqual(el.items[0]!.counts.likes, 100)
  })

  it("loads the next page with the cursor as the end comes into range, without duplicates", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /feed?limit": page(["a", "b"], "CUR"),
      "GET /feed?cursor=CUR": page(["b", "c"])
    })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    // two posts leave the end of the list in range at once: the next page follows by itself
    await waitFor(() => el.items.length === 3)
    assert.deepStrictEqual(el.items.map((p) => p.id), ["a", "b", "c"])
    assert.isTrue(calls.some((c) => c.path === "/feed?cursor=CUR&limit=20"))
    assert.isFalse(el.hasMore)
  })

  it("refreshes when the tab becomes visible again after a while", async () => {
    const calls = fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": page(["a"]) })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    await waitFor(() => el.items.length === 1)
    const now = Date.now
    Date.now = () => now() + 60_000
    try {
      document.dispatchEvent(new Event("visibilitychange"))
      await waitFor(() => calls.filter((c) => c.path.startsWith("/feed")).length === 2)
    } finally {
      Date.now = now
    }
  })

  it("comes back with the posts it had loaded, and counts what is new for the pill", async () => {
    let version = 0
    const calls = fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": () => (version++ === 0 ? page(["a", "b"]) : page(["n", "a", "b"])) })
    const client = testClient()
    await client.session()
    const first = document.createElement("ap-feed")
    first.client = client
    first.pageSize = 2
    await mount(first)
    await waitFor(() => first.items.length === 2)
    first.remove()
    const again = document.createElement("ap-feed")
    again.client = client
    again.pageSize = 2
    await mount(again)
    assert.deepStrictEqual(again.items.map((p) => p.id), ["a", "b"], "the kept posts, at once")
    await waitFor(() => again.newCount === 1)
    assert.deepStrictEqual(again.items.map((p) => p.id), ["a", "b"], "not replaced under the reader")
    assert.strictEqual(calls.filter((c) => c.path.startsWith("/feed")).length, 2)
  })

  it("shows skeleton cards while the first page loads", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": () => new Promise(() => undefined) })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    assert.strictEqual(shadow(el).querySelectorAll(".skeleton[aria-hidden=true]").length, 2)
    assert.strictEqual(shadow(el).querySelector("[role=feed]")!.getAttribute("aria-busy"), "true")
    assert.notInclude(shadow(el).textContent!, "Loading…")
  })

  it("lets the pill's count catch up after a few seconds, announcing at most once in between", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": page(["a"]) })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    await waitFor(() => el.items.length === 1)
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] })
    try {
      const text = () => shadow(el).querySelector("button.pill")!.textContent!
      FakeWebSocket.last.frame("feed_new", { count: 1, newestPostId: "b" }, 2)
      await el.updateComplete
      assert.include(text(), "1 new post")
      for (const [seq, wait] of [[3, 1000], [4, 1000]] as const) {
        vi.advanceTimersByTime(wait)
        FakeWebSocket.last.frame("feed_new", { count: 1, newestPostId: "b" }, seq)
        await el.updateComplete
        assert.include(text(), "1 new post", "held back while the first is being read")
      }
      vi.advanceTimersByTime(2000)
      await el.updateComplete
      assert.include(text(), "3 new posts", "caught up once the interval passed")
    } finally {
      vi.useRealTimers()
    }
  })

  it("an empty feed points to search, to find people to follow", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": page([]) })
    const el = document.createElement("ap-feed")
    el.client = testClient()
    await mount(el)
    await waitFor(() => !el.loading && shadow(el).querySelector("a.cta"))
    const cta = shadow(el).querySelector<HTMLAnchorElement>("a.cta")!
    assert.strictEqual(cta.getAttribute("href"), "/search")
    assert.include(cta.textContent!, "Find people to follow")
  })

  it("shows a kept post as it was changed elsewhere meanwhile (liked on its own page, then Back)", async () => {
    let version = 0
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /feed": () => (version++ === 0 ? page(["a", "b"]) : new Promise(() => undefined)) })
    const client = testClient()
    await client.session()
    const first = document.createElement("ap-feed")
    first.client = client
    await mount(first)
    await waitFor(() => first.items.length === 2)
    first.remove()
    const liked = post("b", { counts: { likes: 42, comments: 0 } } as never)
    document.body.dispatchEvent(new CustomEvent("ap-post-change", { detail: { post: liked }, bubbles: true, composed: true }))
    const again = document.createElement("ap-feed")
    again.client = client
    await mount(again)
    assert.strictEqual(again.items.find((p) => p.id === "b")!.counts.likes, 42)
  })
})
