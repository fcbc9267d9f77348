// @vitest-environment happy-dom
import { afterEach, assert, describe, it, vi } from "vitest"
import type { Message } from "../sdk/dm.ts"
import { type Call, card, conversation, dmMessage, FakeWebSocket, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import type { ApDmThread } from "./dm-thread.component.ts"
import "./dm-thread.ts"
import { memoryOutbox, type OutboxStore } from "./outbox.ts"

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

const page = (items: ReadonlyArray<Message>, more: Partial<{ nextCursor: string | null; hasMore: boolean }> = {}) => ({
  body: { items, nextCursor: null, hasMore: false, newerCursor: null, hasNewer: false, ...more }
})

const mine = (seq: number, overrides: Partial<Message> = {}) => dmMessage("c1", seq, "me", overrides)

const make = async (outbox: OutboxStore = memoryOutbox(), setup: (el: ApDmThread) => void = () => undefined) => {
  const el = document.createElement("ap-dm-thread")
  el.client = testClient()
  el.outbox = outbox
  el.conversationId = "c1"
  setup(el)
  await mount(el)
  await waitFor(() => el.conversation !== undefined)
  await el.updateComplete
  return el
}

/** The socket the thread listens on, opened. */
const socket = async () => {
  await waitFor(() => FakeWebSocket.instances.length === 1)
  FakeWebSocket.last.open()
  return FakeWebSocket.last
}

const type = async (el: ApDmThread, text: string) => {
  const input = shadow(el).querySelector("textarea")!
  input.value = text
  input.dispatchEvent(new Event("input"))
  input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", cancelable: true }))
  await el.updateComplete
}

const bubbles = (el: ApDmThread, text: string) => Array.from(shadow(el).querySelectorAll("[part~=message]")).filter((m) => m.querySelector(".text")?.textContent === text)

const deferred = <T>() => {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

const sends = (calls: ReadonlyArray<Call>) => calls.filter((c) => c.method === "POST" && c.path === "/conversations/c1/messages")

describe("ap-dm-thread", () => {
  it("shows a story reply with the story's thumbnail while it is visible, and says when it is gone", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([
        dmMessage("c1", 1, "alice", { text: "love this", story: { id: "s1", kind: "reply", thumbnail: "/media/s1-thumb.webp", available: true } }),
        dmMessage("c1", 2, "alice", { text: "🔥", story: { id: "s2", kind: "reaction", thumbnail: null, available: false } })
      ]),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 2, unreadCount: 0 } }
    })
    const el = await make()
    const quotes = Array.from(shadow(el).querySelectorAll("[part~=story-quote]"))
    assert.lengthOf(quotes, 2)
    assert.strictEqual(quotes[0]!.querySelector("img")!.getAttribute("src"), "/media/s1-thumb.webp")
    assert.include(quotes[0]!.textContent!, "Replied to your story")
    assert.isNull(quotes[1]!.querySelector("img"))
    assert.include(quotes[1]!.textContent!, "Reacted to your story (no longer available)")
  })

  it("shows a sent message as pending, then once when both the frame and the 201 confirm it", async () => {
    const answer = deferred<{ status: number; body: unknown }>()
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([dmMessage("c1", 1), dmMessage("c1", 2)]),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 2, unreadCount: 0 } },
      "POST /conversations/c1/messages": () => answer.promise
    })
    const outbox = memoryOutbox()
    const el = await make(outbox)
    const ws = await socket()
    assert.lengthOf(shadow(el).querySelectorAll("[part~=message]"), 2)
    await type(el, "hello there")
    await waitFor(() => sends(calls).length === 1)
    const clientId = (sends(calls)[0]!.body as { clientId: string }).clientId
    assert.match(clientId, /^[0-9a-f-]{36}$/)
    assert.strictEqual((sends(calls)[0]!.body as { text: string }).text, "hello there")
    assert.lengthOf(bubbles(el, "hello there"), 1)
    assert.include(bubbles(el, "hello there")[0]!.getAttribute("part")!, "pending")
    assert.include(bubbles(el, "hello there")[0]!.textContent!, "Sending…")
    assert.lengthOf(await outbox.list("id-me", "c1"), 1)
    const sent: Array<number> = []
    el.addEventListener("ap-message-sent", (e) => sent.push(e.detail.seq))
    const confirmed = mine(3, { text: "hello there", clientId })
    ws.frame("message", { conversationId: "c1", message: confirmed, request: false }, 10)
    await el.updateComplete
    assert.lengthOf(bubbles(el, "hello there"), 1)
    assert.notInclude(bubbles(el, "hello there")[0]!.getAttribute("part")!, "pending")
    answer.resolve({ status: 201, body: confirmed })
    await waitFor(async () => (await outbox.list("id-me", "c1")).length === 0)
    await new Promise((r) => setTimeout(r, 20))
    await el.updateComplete
    assert.lengthOf(bubbles(el, "hello there"), 1, "never shown twice")
    assert.deepStrictEqual(el.messages.map((m) => m.seq), [1, 2, 3])
    assert.deepStrictEqual(sent, [3])
    assert.strictEqual(shadow(el).activeElement, shadow(el).querySelector("textarea"), "focus stays in the field")
  })

  it("keeps a message written offline through a reload and sends it after, with the same clientId, once", async () => {
    const history = [dmMessage("c1", 1)]
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page(history),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 1, unreadCount: 0 } },
      "POST /conversations/c1/messages": "network-error"
    })
    const outbox = memoryOutbox()
    const first = await make(outbox)
    await type(first, "written offline")
    await waitFor(() => bubbles(first, "written offline")[0]?.textContent?.includes("Waiting for a connection"))
    const clientId = (await outbox.list("id-me", "c1"))[0]!.clientId
    first.remove()
    // the reload: a new element, the same storage; the network is back, and answers 503 once
    let n = 0
    const after = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page(history),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 2, unreadCount: 0 } },
      "POST /conversations/c1/messages": (call) =>
        ++n === 1
          ? { status: 503, body: { error: { code: "ServiceUnavailable", message: "try again" } } }
          : { status: 201, body: mine(2, { text: "written offline", clientId: (call.body as { clientId: string }).clientId }) }
    })
    const second = await make(outbox)
    assert.lengthOf(bubbles(second, "written offline"), 1, "shown pending at once after the reload")
    await waitFor(() => second.messages.length === 2, 4000)
    await second.updateComplete
    assert.deepStrictEqual(sends(after).map((c) => (c.body as { clientId: string }).clientId), [clientId, clientId], "a 503 is retried with the same clientId")
    assert.isAbove(sends(calls).length, 0)
    assert.lengthOf(bubbles(second, "written offline"), 1)
    assert.lengthOf(await outbox.list("id-me", "c1"), 0)
  })

  it("keeps a message whose frame arrives while the first page is still loading", async () => {
    const history = deferred<{ body: unknown }>()
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": () => history.promise,
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 3, unreadCount: 0 } }
    })
    const el = document.createElement("ap-dm-thread")
    el.client = testClient()
    el.outbox = memoryOutbox()
    el.conversationId = "c1"
    await mount(el)
    const ws = await socket()
    ws.frame("message", { conversationId: "c1", message: dmMessage("c1", 3, "alice", { text: "just in" }), request: false }, 9)
    history.resolve(page([dmMessage("c1", 1), dmMessage("c1", 2)]))
    await waitFor(() => el.conversation !== undefined && el.messages.length === 3)
    assert.deepStrictEqual(el.messages.map((m) => m.seq), [1, 2, 3])
  })

  it("drops an outbox entry the history already holds (sent before the reload, its answer lost)", async () => {
    const outbox = memoryOutbox()
    await outbox.put({ clientId: "k1", userId: "id-me", conversationId: "c1", text: "made it", replyToSeq: null, mediaUploadId: null, writtenAt: 1 })
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([mine(1, { text: "made it", clientId: "k1" })]),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 1, unreadCount: 0 } }
    })
    const el = await make(outbox)
    await new Promise((r) => setTimeout(r, 30))
    assert.lengthOf(bubbles(el, "made it"), 1)
    assert.lengthOf(sends(calls), 0)
    assert.lengthOf(await outbox.list("id-me", "c1"), 0)
  })

  it("shows who is typing and hides it after expiresInMs; sends its own typing at most every 2 s", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([dmMessage("c1", 1)]),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 1, unreadCount: 0 } }
    })
    const el = await make()
    const ws = await socket()
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] })
    const typing = () => shadow(el).querySelector("[part=typing]")!.textContent!.trim()
    ws.frame("typing", { conversationId: "c1", user: { id: "id-alice", username: "alice" }, expiresInMs: 5000 })
    ws.frame("typing", { conversationId: "other", user: { id: "id-bob", username: "bob" }, expiresInMs: 5000 })
    await el.updateComplete
    assert.strictEqual(typing(), "alice is typing…")
    vi.advanceTimersByTime(4900)
    await el.updateComplete
    assert.strictEqual(typing(), "alice is typing…")
    vi.advanceTimersByTime(200)
    await el.updateComplete
    assert.strictEqual(typing(), "", "hidden without any refresh")
    const input = shadow(el).querySelector("textarea")!
    const typed = () => ws.sent.filter((f) => (f as { type: string }).type === "typing")
    input.dispatchEvent(new Event("input"))
    input.dispatchEvent(new Event("input"))
    vi.advanceTimersByTime(1500)
    input.dispatchEvent(new Event("input"))
    assert.deepStrictEqual(typed(), [{ type: "typing", payload: { conversationId: "c1" } }])
    vi.advanceTimersByTime(600)
    input.dispatchEvent(new Event("input"))
    assert.lengthOf(typed(), 2)
  })

  it("marks read with the latest seq and shows Seen under your last message once the other read it", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([dmMessage("c1", 1), mine(2), mine(3)]),
      "GET /conversations/c1": {
        body: conversation("c1", "alice", { members: [{ user: card("me"), role: "member", readSeq: 3 }, { user: card("alice"), role: "member", readSeq: 2 }] })
      },
      "POST /conversations/c1/read": { body: { readSeq: 3, unreadCount: 0 } }
    })
    const el = await make()
    const ws = await socket()
    await waitFor(() => calls.some((c) => c.path === "/conversations/c1/read"))
    assert.deepStrictEqual(calls.find((c) => c.path === "/conversations/c1/read")!.body, { seq: 3 })
    assert.isNull(shadow(el).querySelector("[part=seen]"), "alice read 2, not your last (3)")
    ws.frame("read_receipt", { conversationId: "c1", userId: "id-alice", readSeq: 3 }, 11)
    await el.updateComplete
    const seen = shadow(el).querySelectorAll("[part=seen]")
    assert.lengthOf(seen, 1)
    assert.strictEqual(seen[0]!.closest("[data-seq]")!.getAttribute("data-seq"), "3")
    ws.frame("read_receipt", { conversationId: "c1", userId: "id-me", readSeq: 3 }, 12)
    ws.frame("read_receipt", { conversationId: "c1", userId: "id-alice", readSeq: 1 }, 13)
    await el.updateComplete
    assert.lengthOf(shadow(el).querySelectorAll("[part=seen]"), 1, "a pointer never moves back")
  })

  it("reacts, replies with a quote, shows tombstones and replaces a photo when it is ready", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([dmMessage("c1", 1, "alice", { text: "look" }), dmMessage("c1", 2, "alice", { kind: "photo", text: null, photo: { status: "processing", variants: null, placeholder: null } })]),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 2, unreadCount: 0 } },
      "POST /conversations/c1/messages/1/reactions": { body: { reactions: [{ emoji: "❤️", user: card("me") }] } },
      "POST /conversations/c1/messages": { status: 503, body: { error: { code: "ServiceUnavailable", message: "later" } } }
    })
    const el = await make()
    const ws = await socket()
    const first = () => shadow(el).querySelector<HTMLElement>('[data-seq="1"]')!
    const react = Array.from(first().querySelectorAll("button")).find((b) => b.textContent === "React")!
    react.click()
    await waitFor(() => first().querySelector("[part=picker]"))
    assert.strictEqual(shadow(el).activeElement, first().querySelector("[part=picker] button"), "focus moves into the picker")
    first().querySelector<HTMLButtonElement>('[aria-label="React with heart"]')!.click()
    await waitFor(() => first().querySelector("[part=reactions]"))
    assert.deepStrictEqual(calls.find((c) => c.path.endsWith("/reactions"))!.body, { emoji: "❤️" })
    assert.strictEqual(first().querySelector("[part=reactions] button")!.getAttribute("aria-pressed"), "true")
    ws.frame("reaction", { conversationId: "c1", seq: 1, reactions: [{ emoji: "❤️", user: card("me") }, { emoji: "❤️", user: card("alice") }] }, 5)
    await el.updateComplete
    assert.strictEqual(first().querySelector("[part=reactions] button")!.textContent!.trim(), "❤️ 2")

    first().querySelector<HTMLButtonElement>('[aria-label="Reply to ALICE"]')!.click()
    await waitFor(() => shadow(el).querySelector("[part=reply-preview]"))
    assert.strictEqual(shadow(el).activeElement, shadow(el).querySelector("textarea"))
    await type(el, "nice")
    await waitFor(() => sends(calls).length > 0)
    assert.strictEqual((sends(calls)[0]!.body as { replyToSeq: number }).replyToSeq, 1)
    assert.include(bubbles(el, "nice")[0]!.querySelector("[part=quote]")!.textContent!, "look")
    assert.isNull(shadow(el).querySelector("[part=reply-preview]"))

    assert.include(shadow(el).querySelector('[data-seq="2"] [part=photo]')!.textContent!, "Processing photo")
    const variants = { thumbnail: "/media/x-w150.webp", small: "/media/x-w320.webp", medium: "/media/x-w640.webp", large: "/media/x-w1080.webp" }
    ws.frame("message_updated", { conversationId: "c1", seq: 2, photo: { status: "ready", variants, placeholder: null } }, 6)
    await el.updateComplete
    assert.strictEqual(shadow(el).querySelector<HTMLImageElement>('[data-seq="2"] img[part=photo]')!.getAttribute("src"), "/media/x-w320.webp")
    ws.frame("message_deleted", { conversationId: "c1", seq: 1 }, 7)
    await el.updateComplete
    assert.strictEqual(first().querySelector("[part=tombstone]")!.textContent, "Message deleted")
    assert.isNull(first().querySelector(".text"))
  })

  it("fetches a photo again when its (signed, expiring) URL fails to load, at most once a minute", async () => {
    const photo = (sig: string) => ({ status: "ready" as const, variants: { thumbnail: `/t?${sig}`, small: `/s?${sig}`, medium: `/m?${sig}`, large: `/l?${sig}` }, placeholder: null })
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages?around=1": page([dmMessage("c1", 1, "alice", { kind: "photo", text: null, photo: photo("fresh") })]),
      "GET /conversations/c1/messages": page([dmMessage("c1", 1, "alice", { kind: "photo", text: null, photo: photo("old") })]),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 1, unreadCount: 0 } }
    })
    const el = await make()
    const img = () => shadow(el).querySelector<HTMLImageElement>("img[part=photo]")!
    assert.strictEqual(img().getAttribute("src"), "/s?old")
    img().dispatchEvent(new Event("error"))
    await waitFor(() => img().getAttribute("src") === "/s?fresh")
    img().dispatchEvent(new Event("error"))
    await new Promise((r) => setTimeout(r, 20))
    assert.lengthOf(calls.filter((c) => c.path.includes("around=1")), 1)
  })

  it("offers Accept and Decline on a message request, and closes the reaction picker with Escape", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages": page([dmMessage("c1", 1, "dave")]),
      "GET /conversations/c1": { body: conversation("c1", "dave", { status: "request" }) },
      "POST /conversations/c1/read": { body: { readSeq: 1, unreadCount: 0 } },
      "POST /conversations/c1/accept": { body: conversation("c1", "dave", { status: "accepted" }) }
    })
    const el = await make()
    const banner = () => shadow(el).querySelector("[part=request]")
    assert.include(banner()!.textContent!, "DAVE would like to send you messages.")
    const decisions: Array<string> = []
    el.addEventListener("ap-conversation-request", (e) => decisions.push(e.detail.decision))
    Array.from(banner()!.querySelectorAll("button")).find((b) => b.textContent === "Accept")!.click()
    await waitFor(() => banner() === null)
    assert.deepStrictEqual(decisions, ["accepted"])
    assert.isTrue(calls.some((c) => c.method === "POST" && c.path === "/conversations/c1/accept"))
    const react = shadow(el).querySelector<HTMLButtonElement>('[data-seq="1"] button.react')!
    react.click()
    await waitFor(() => shadow(el).querySelector("[part=picker]"))
    shadow(el).querySelector("[part=picker] button")!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }))
    await waitFor(() => shadow(el).querySelector("[part=picker]") === null)
    assert.strictEqual(shadow(el).activeElement, react, "focus goes back to the React button")
  })

  it("renders only a window of the history, and pages older messages in on scrolling up", async () => {
    const all = Array.from({ length: 120 }, (_, i) => dmMessage("c1", i + 1))
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/c1/messages?cursor=older": page(all.slice(0, 60)),
      "GET /conversations/c1/messages": page(all.slice(60), { nextCursor: "older", hasMore: true }),
      "GET /conversations/c1": { body: conversation("c1") },
      "POST /conversations/c1/read": { body: { readSeq: 120, unreadCount: 0 } }
    })
    const el = await make(memoryOutbox(), (e) => {
      e.windowSize = 20
      e.pageSize = 60
    })
    const seqs = () => Array.from(shadow(el).querySelectorAll("[data-seq]")).map((m) => Number(m.getAttribute("data-seq")))
    assert.lengthOf(seqs(), 20)
    assert.strictEqual(seqs()[19], 120)
    assert.strictEqual(shadow(el).querySelector("[role=log]")!.getAttribute("aria-live"), "polite")
    for (let i = 0; i < 4; i++) await el.showOlder()
    await el.updateComplete
    assert.isAtMost(seqs().length, 20)
    assert.strictEqual(seqs()[0], 61, "held messages first, no request yet")
    assert.isFalse(calls.some((c) => c.path.includes("cursor=older")))
    await el.showOlder()
    await el.updateComplete
    assert.isTrue(calls.some((c) => c.path.includes("cursor=older")))
    assert.strictEqual(seqs()[0], 51)
    assert.isAtMost(seqs().length, 20)
    assert.lengthOf(el.messages, 120)
  })

  it("uploads a photo with progress and sends it with its mediaUploadId", async () => {
    class FakeXhr {
      static last: FakeXhr | undefined
      upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null }
      onload: (() => void) | null = null
      onerror: (() => void) | null = null
      onabort: (() => void) | null = null
      status = 0
      responseText = ""
      method = ""
      url = ""
      open(method: string, url: string) {
        this.method = method
        this.url = url
      }
      setRequestHeader() {}
      send() {
        FakeXhr.last = this
      }
      abort() {}
    }
    const real = globalThis.XMLHttpRequest
    globalThis.XMLHttpRequest = FakeXhr as never
    try {
      const calls = fakeFetch({
        "GET /auth/session": { body: { user: me() } },
        "GET /conversations/c1/messages": page([]),
        "GET /conversations/c1": { body: conversation("c1") },
        "POST /uploads": { status: 201, body: { uploadId: "up1", url: "/api/v1/uploads/up1?expires=1&sig=s", method: "PUT", headers: {}, maxBytes: 10, expiresAt: "" } },
        "POST /conversations/c1/messages": (call) => ({ status: 201, body: mine(1, { kind: "photo", text: null, clientId: (call.body as { clientId: string }).clientId, photo: { status: "processing", variants: null, placeholder: null } }) })
      })
      const el = await make()
      const attached = el.attach(new File([new Uint8Array(1000)], "p.jpg", { type: "image/jpeg" }))
      await waitFor(() => FakeXhr.last)
      assert.strictEqual(FakeXhr.last!.method, "PUT")
      assert.strictEqual(FakeXhr.last!.url, "/api/v1/uploads/up1?expires=1&sig=s")
      FakeXhr.last!.upload.onprogress!({ loaded: 400, total: 1000, lengthComputable: true })
      await el.updateComplete
      assert.strictEqual(shadow(el).querySelector<HTMLProgressElement>("[part=progress]")!.value, 40)
      FakeXhr.last!.status = 204
      FakeXhr.last!.onload!()
      await attached
      await waitFor(() => el.messages.length === 1)
      assert.strictEqual((sends(calls)[0]!.body as { mediaUploadId: string }).mediaUploadId, "up1")
      await el.updateComplete
      assert.isNull(shadow(el).querySelector("[part=progress]"))
    } finally {
      globalThis.XMLHttpRequest = real
    }
  })
})
