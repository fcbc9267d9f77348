// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, FakeWebSocket, fakeFetch, me, mount, shadow, story, testClient, waitFor } from "../shared/testing.ts"
import type { ApStoryViewer } from "./story-viewer.component.ts"
import { startIndex, tapSide } from "./story-viewer.component.ts"
import "./story-viewer.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

const stories = (from: string, items: ReadonlyArray<ReturnType<typeof story>>, readPointer = 0) => ({ body: { user: card(from), readPointer, items } })

const open = async (username: string, queue: ReadonlyArray<string> = []) => {
  const el = document.createElement("ap-story-viewer")
  el.client = testClient()
  await mount(el)
  el.show(username, queue)
  await waitFor(() => el.data?.user.username === username)
  await el.updateComplete
  loaded(el)
  return el
}

/** The image finished loading (happy-dom loads none): the clock may run. */
const loaded = (el: ApStoryViewer) => shadow(el).querySelector("img[part=media]")?.dispatchEvent(new Event("load"))

const key = (el: ApStoryViewer, k: string) =>
  shadow(el).querySelector("[part=dialog]")!.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, composed: true }))

const pointer = (el: ApStoryViewer, type: "pointerdown" | "pointerup", x: number, y = 100) =>
  shadow(el).querySelector(".stage")!.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, button: 0, pointerType: "touch", bubbles: true }))

/** Runs the viewer's clock `ms` forward at once (a clock ahead of the real one: its ticks do nothing). */
let clock = 0
const advance = (el: ApStoryViewer, ms: number) => {
  clock = Math.max(clock, performance.now()) + ms
  el.tick(clock)
}

describe("story viewer helpers", () => {
  it("starts at the oldest unseen story, and taps on the left third go back", () => {
    const s = { user: card("bob"), readPointer: 2, items: [story("a", 1, "bob", { seen: true }), story("b", 2, "bob", { seen: true }), story("c", 3)] }
    assert.strictEqual(startIndex(s), 2)
    assert.strictEqual(startIndex({ ...s, readPointer: 3, items: s.items.map((i) => ({ ...i, seen: true })) }), 0)
    assert.strictEqual(tapSide(10, 300), "prev")
    assert.strictEqual(tapSide(150, 300), "next")
  })
})

describe("ap-story-viewer", () => {
  it("opens at the first unseen story, counts the view once, auto-advances after its time and closes after the last", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/stories": stories("bob", [story("s1", 1, "bob", { seen: true }), story("s2", 2), story("s3", 3)], 1),
      "POST /stories/": { body: { storyId: "x", viewed: true } }
    })
    const viewed: Array<string> = []
    document.addEventListener("ap-story-view", (e) => viewed.push(e.detail.storyId))
    let closed = 0
    document.addEventListener("ap-story-close", () => closed++)
    const el = await open("bob")
    assert.strictEqual(el.current?.id, "s2")
    assert.strictEqual(shadow(el).querySelector("[part=dialog]")!.getAttribute("aria-label"), "Stories of BOB")
    assert.strictEqual(shadow(el).querySelectorAll(".bar").length, 3)
    await waitFor(() => calls.some((c) => c.method === "POST" && c.path === "/stories/s2/view"))
    // the clock runs only once the image is in
    advance(el, 2500)
    assert.closeTo(el.progress, 0.5, 0.05)
    advance(el, 2600)
    assert.strictEqual(el.current?.id, "s3")
    await el.updateComplete
    loaded(el)
    advance(el, 5100)
    assert.isFalse(el.open)
    assert.strictEqual(closed, 1)
    assert.deepStrictEqual(viewed, ["s2", "s3"])
  })

  it("goes back and forth with the arrow keys, taps and the buttons; Esc closes", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/stories": stories("bob", [story("s1", 1), story("s2", 2), story("s3", 3)]),
      "POST /stories/": { body: { storyId: "x", viewed: true } }
    })
    const el = await open("bob")
    assert.strictEqual(el.current?.id, "s1")
    key(el, "ArrowRight")
    assert.strictEqual(el.current?.id, "s2")
    key(el, "ArrowLeft")
    assert.strictEqual(el.current?.id, "s1")
    await el.updateComplete
    pointer(el, "pointerdown", 200)
    pointer(el, "pointerup", 200)
    assert.strictEqual(el.current?.id, "s2")
    pointer(el, "pointerdown", 0)
    pointer(el, "pointerup", 0)
    assert.strictEqual(el.current?.id, "s1")
    shadow(el).querySelector<HTMLButtonElement>("button[aria-label='Next story']")!.click()
    assert.strictEqual(el.current?.id, "s2")
    key(el, "Escape")
    assert.isFalse(el.open)
  })

  it("pauses while held, while the tab is hidden and with the Pause button, and a long press is no tap", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/stories": stories("bob", [story("s1", 1), story("s2", 2)]),
      "POST /stories/": { body: { storyId: "x", viewed: true } }
    })
    const el = await open("bob")
    pointer(el, "pointerdown", 200)
    await new Promise((r) => setTimeout(r, 260))
    assert.isTrue(el.paused.has("hold"))
    const before = el.progress
    advance(el, 6000)
    assert.strictEqual(el.current?.id, "s1")
    assert.strictEqual(el.progress, before)
    pointer(el, "pointerup", 200)
    assert.strictEqual(el.current?.id, "s1", "releasing a hold does not move on")
    assert.strictEqual(el.paused.size, 0)

    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" })
    document.dispatchEvent(new Event("visibilitychange"))
    advance(el, 6000)
    assert.strictEqual(el.current?.id, "s1")
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" })
    document.dispatchEvent(new Event("visibilitychange"))

    await el.updateComplete
    const pause = Array.from(shadow(el).querySelectorAll("button")).find((b) => b.textContent === "Pause")!
    pause.click()
    await el.updateComplete
    assert.strictEqual(pause.getAttribute("aria-pressed"), "true")
    advance(el, 6000)
    assert.strictEqual(el.current?.id, "s1")
    pause.click()
    advance(el, 5100)
    assert.strictEqual(el.current?.id, "s2")
  })

  it("moves on to the next person of the queue, and a swipe skips a person", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/stories": stories("bob", [story("b1", 1)]),
      "GET /users/carol/stories": stories("carol", [story("c1", 1, "carol"), story("c2", 2, "carol")]),
      "GET /users/dave/stories": stories("dave", [story("d1", 1, "dave")]),
      "POST /stories/": { body: { storyId: "x", viewed: true } }
    })
    const el = await open("bob", ["bob", "carol", "dave"])
    key(el, "ArrowRight")
    await waitFor(() => el.data?.user.username === "carol")
    assert.strictEqual(el.current?.id, "c1")
    await el.updateComplete
    pointer(el, "pointerdown", 300)
    pointer(el, "pointerup", 100)
    await waitFor(() => el.data?.user.username === "dave")
    key(el, "ArrowLeft")
    await waitFor(() => el.data?.user.username === "carol")
  })

  it("drops a story deleted live or expired while shown", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/stories": stories("bob", [story("s1", 1, "bob", { expiresAt: new Date(Date.now() + 400).toISOString() }), story("s2", 2), story("s3", 3)]),
      "POST /stories/": { body: { storyId: "x", viewed: true } }
    })
    const el = await open("bob")
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    FakeWebSocket.last.frame("story_removed", { storyId: "s2", authorId: "id-bob" }, 3)
    await el.updateComplete
    assert.deepStrictEqual(el.data!.items.map((s) => s.id), ["s1", "s3"])
    assert.strictEqual(el.current?.id, "s1")
    await new Promise((r) => setTimeout(r, 500))
    await waitFor(() => el.current?.id === "s3")
    assert.deepStrictEqual(el.data!.items.map((s) => s.id), ["s3"])
  })

  it("sends replies and reactions to the author, pausing while you type", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/stories": stories("bob", [story("s1", 1)]),
      "POST /stories/s1/view": { body: { storyId: "s1", viewed: true } },
      "POST /stories/s1/replies": { status: 201, body: { conversationId: "c1", seq: 4 } }
    })
    const replies: Array<string> = []
    document.addEventListener("ap-story-reply", (e) => replies.push(e.detail.conversationId))
    const el = await open("bob")
    const input = shadow(el).querySelector<HTMLInputElement>("#reply")!
    input.dispatchEvent(new Event("focus"))
    assert.isTrue(el.paused.has("typing"))
    input.value = "so good"
    input.dispatchEvent(new Event("input"))
    await el.updateComplete
    // arrow keys in the reply box move the caret, not the story
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true, composed: true }))
    assert.isTrue(el.open)
    shadow(el).querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => replies.length === 1)
    const reply = calls.find((c) => c.path === "/stories/s1/replies")!
    assert.strictEqual((reply.body as { text: string }).text, "so good")
    assert.isString((reply.body as { clientId: string }).clientId)
    await el.updateComplete
    assert.include(shadow(el).querySelector(".toast")!.textContent!, "Reply sent")
    shadow(el).querySelector<HTMLButtonElement>("button[aria-label='React with 🔥']")!.click()
    await waitFor(() => replies.length === 2)
    assert.strictEqual((calls.filter((c) => c.path === "/stories/s1/replies")[1]!.body as { emoji: string }).emoji, "🔥")
  })

  it("shows the owner Seen by N and the viewers sheet, updated live, and no view or reply bar", async () => {
    let viewers = [{ user: card("alice"), viewedAt: "2026-01-01T00:00:00Z" }]
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/stories": stories("me", [story("m1", 1, "me", { viewCount: 1, seen: true })]),
      "GET /stories/m1/viewers": () => ({ body: { items: viewers, nextCursor: null, hasMore: false, viewCount: viewers.length } })
    })
    const el = await open("me")
    assert.isNull(shadow(el).querySelector("#reply"))
    const seenBy = shadow(el).querySelector<HTMLButtonElement>("[part=seen-by]")!
    assert.strictEqual(seenBy.textContent!.trim(), "Seen by 1")
    seenBy.click()
    await waitFor(() => el.sheet !== null)
    await el.updateComplete
    assert.isTrue(el.paused.has("sheet"))
    assert.include(shadow(el).querySelector("[part=sheet]")!.textContent!, "ALICE")
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    viewers = [{ user: card("carol"), viewedAt: "2026-01-01T00:01:00Z" }, ...viewers]
    FakeWebSocket.last.frame("story_view", { stories: [{ storyId: "m1", viewCount: 2, newViewers: 1 }], newViewers: 1, viewers: [card("carol")] }, 5)
    await waitFor(() => el.sheet?.items.length === 2)
    await el.updateComplete
    assert.include(shadow(el).querySelector("[part=sheet] h2")!.textContent!, "Seen by 2")
    assert.include(shadow(el).querySelector(".toast")!.textContent!, "1 new viewer")
    assert.isFalse(calls.some((c) => c.path.endsWith("/view")), "the owner's own looks are not views")
    key(el, "Escape")
    assert.isNull(el.sheet)
    assert.isTrue(el.open)
  })
})
