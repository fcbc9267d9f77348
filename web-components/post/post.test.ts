// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { FakeWebSocket, fakeFetch, me, mount, post, shadow, testClient, waitFor } from "../shared/testing.ts"
import { define } from "../shared/define.ts"
import { ApPost } from "./post.component.ts"
import "./post.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

const make = async (p = post("p1")) => {
  const el = document.createElement("ap-post")
  el.client = testClient()
  el.post = p
  return mount(el)
}

const likeButton = (el: ApPost) => shadow(el).querySelector<HTMLButtonElement>("button.like")!

describe("ap-post", () => {
  it("is defined once, and defining the bundle twice is harmless", async () => {
    define("ap-post", class extends HTMLElement {})
    assert.strictEqual(customElements.get("ap-post"), ApPost)
  })

  it("renders a responsive image over the four variants, with alt text and a placeholder", async () => {
    const el = await make()
    const img = shadow(el).querySelector("img[part=image]")!
    assert.strictEqual(img.getAttribute("alt"), "alt p1")
    assert.strictEqual(
      img.getAttribute("srcset"),
      "/media/p1-w150.webp 150w, /media/p1-w320.webp 320w, /media/p1-w640.webp 640w, /media/p1-w1080.webp 1080w"
    )
    assert.include(img.getAttribute("sizes") ?? "", "640px")
    const media = shadow(el).querySelector<HTMLElement>(".media")!
    assert.include(media.getAttribute("style") ?? "", "data:image/webp;base64,AAAA")
    assert.notInclude(img.className, "loaded", "hidden behind the placeholder until it loads")
    img.dispatchEvent(new Event("load"))
    await el.updateComplete
    assert.include(img.className, "loaded")
    assert.include(shadow(el).querySelector(".caption")!.textContent!, "caption p1")
  })

  it("shows processing instead of an image while the post is not published", async () => {
    const el = await make(post("p2", { status: "processing", variants: null }))
    assert.isNull(shadow(el).querySelector("img[part=image]"))
    assert.include(shadow(el).textContent!, "Processing")
  })

  it("likes optimistically and confirms with the server's count", async () => {
    let release: (v: { body: unknown }) => void = () => undefined
    const calls = fakeFetch({ "POST /posts/p1/like": () => new Promise((r) => (release = r)) })
    const el = await make()
    const events: Array<unknown> = []
    el.addEventListener("ap-like", (e) => events.push(e.detail))
    likeButton(el).click()
    await el.updateComplete
    assert.strictEqual(likeButton(el).getAttribute("aria-pressed"), "true", "pressed before the server answers")
    assert.strictEqual(likeButton(el).querySelector(".count")!.textContent, "4")
    release({ body: { liked: true, likes: 10 } })
    await waitFor(() => events.length === 1)
    await el.updateComplete
    assert.strictEqual(likeButton(el).querySelector(".count")!.textContent, "10")
    assert.deepStrictEqual(events, [{ postId: "p1", liked: true, likes: 10 }])
    assert.deepStrictEqual(calls.filter((c) => c.path.startsWith("/posts")).map((c) => c.method), ["POST"])
  })

  it("rolls a failed like back and says so", async () => {
    fakeFetch({ "POST /posts/p1/like": "network-error" })
    const el = await make()
    const errors: Array<string> = []
    el.addEventListener("ap-error", (e) => errors.push(e.detail.message))
    likeButton(el).click()
    await waitFor(() => errors.length === 1)
    await el.updateComplete
    assert.strictEqual(likeButton(el).getAttribute("aria-pressed"), "false")
    assert.strictEqual(likeButton(el).querySelector(".count")!.textContent, "3")
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /Couldn't like this post/)
  })

  it("saves, and rolls back a refused save", async () => {
    fakeFetch({ "POST /posts/p1/save": { status: 503, body: { error: { code: "ServiceUnavailable", message: "try later" } } } })
    const el = await make()
    const save = () => shadow(el).querySelector<HTMLButtonElement>("button.save")!
    save().click()
    await waitFor(() => shadow(el).querySelector("[role=alert]")!.textContent!.includes("try later"))
    assert.strictEqual(save().getAttribute("aria-pressed"), "false")
  })

  it("opens the comments, lists them and posts a new one", async () => {
    const comment = (id: string, text: string) => ({ id, postId: "p1", text, author: { id: "id-me", username: "me" }, createdAt: "2026-01-01T00:00:00Z" })
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /posts/p1/comments": { body: { items: [comment("c1", "first!")], nextCursor: null, hasMore: false } },
      "POST /posts/p1/comments": (call) => ({ status: 201, body: comment("c2", (call.body as { text: string }).text) })
    })
    const el = await make()
    await el.client.session()
    shadow(el).querySelector<HTMLButtonElement>("button.comment")!.click()
    // the thread is <ap-comments>, a lazily loaded element with its own shadow root
    const thread = () => shadow(el).querySelector("ap-comments")?.shadowRoot ?? null
    await waitFor(() => thread()?.querySelector("li"))
    assert.include(thread()!.querySelector("li")!.textContent!, "first!")
    const input = thread()!.querySelector<HTMLInputElement>("#comment-text")!
    await waitFor(() => thread()!.activeElement === input)
    input.value = "nice <b>shot</b>"
    thread()!.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => thread()!.querySelectorAll("li").length === 2)
    const last = thread()!.querySelectorAll("li")[1]!
    assert.include(last.textContent!, "nice <b>shot</b>", "comment text is bound as text, never as HTML")
    await waitFor(() => shadow(el).querySelector("button.comment .count")!.textContent === "1")
    assert.isNull(last.querySelector("b"))
    assert.deepStrictEqual(calls.find((c) => c.method === "POST")!.body, { text: "nice <b>shot</b>" })
  })

  it("is the feed's article when given a position: numbered, labelled, focusable, with names that contain what they show", async () => {
    const el = document.createElement("ap-post")
    el.client = testClient()
    el.post = post("p1")
    el.posinset = 2
    el.setsize = -1
    await mount(el)
    const article = shadow(el).querySelector("article")!
    assert.strictEqual(article.getAttribute("aria-posinset"), "2")
    assert.strictEqual(article.getAttribute("aria-setsize"), "-1")
    assert.strictEqual(article.getAttribute("tabindex"), "-1")
    assert.include(shadow(el).getElementById(article.getAttribute("aria-labelledby")!)!.textContent!, "Post by")
    assert.isFalse(el.hasAttribute("tabindex"))
    el.focus()
    assert.strictEqual(shadow(el).activeElement, article)
    // the visible count is part of the accessible name (no aria-label hiding it), and the name stays put when pressed
    const like = likeButton(el)
    assert.isNull(like.getAttribute("aria-label"))
    assert.strictEqual(like.textContent!.replace(/\s+/g, " ").trim(), "Like 3")
  })

  it("outside a feed the article has no position and is not a focus stop", async () => {
    const el = await make()
    const article = shadow(el).querySelector("article")!
    assert.isNull(article.getAttribute("aria-posinset"))
    assert.isNull(article.getAttribute("tabindex"))
  })

  it("watches its post's counts while on the page: everyone's likes and comments show, the watch ends when it leaves", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const el = await make(post("p1"))
    const other = document.createElement("ap-post")
    other.client = el.client
    other.post = post("p2")
    await mount(other)
    await waitFor(() => FakeWebSocket.instances.length === 1)
    const ws = FakeWebSocket.last
    ws.open()
    ws.frame("hello", { userId: "id-me", inboxSeq: 0, connectionId: "c" })
    await waitFor(() => ws.sent.some((f) => (f as { type: string }).type === "watch"))
    assert.deepStrictEqual(ws.sent.filter((f) => (f as { type: string }).type === "watch").at(-1), { type: "watch", payload: { postIds: ["p1", "p2"] } })
    const changes: Array<number> = []
    document.addEventListener("ap-post-change", (e) => changes.push(e.detail.post.counts.likes))
    ws.frame("watching", { posts: [{ postId: "p1", likes: 5, comments: 2 }] })
    ws.frame("post_counts", { postId: "p1", likes: 6, comments: 3 })
    ws.frame("post_counts", { postId: "other", likes: 99, comments: 99 })
    await el.updateComplete
    assert.strictEqual(likeButton(el).textContent!.replace(/\s+/g, " ").trim(), "Like 6")
    assert.include(shadow(el).querySelector("button.comment")!.textContent!, "3")
    assert.deepStrictEqual(changes, [5, 6], "the feed's list learns each change")
    el.remove()
    await waitFor(() => {
      const last = ws.sent.filter((f) => (f as { type: string }).type === "watch").at(-1) as { payload: { postIds: Array<string> } }
      return last.payload.postIds.join() === "p2"
    })
  })
})
