// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { conversation, FakeWebSocket, fakeFetch, me, mount, profile, shadow, testClient, waitFor } from "../shared/testing.ts"
import type { ApApp } from "./app.component.ts"
import "./app.ts"
import { isAppPath, parseRoute } from "./routes.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
  history.replaceState(null, "", "/")
})

const make = async () => {
  const el = document.createElement("ap-app")
  el.client = testClient()
  return mount(el)
}

const heading = (el: ApApp) => shadow(el).querySelector("main h1")!

describe("routes", () => {
  it("parses the app's paths and leaves the server's alone", () => {
    assert.deepStrictEqual(parseRoute("/u/alice"), { name: "profile", username: "alice" })
    assert.deepStrictEqual(parseRoute("/p/123"), { name: "post", id: "123" })
    assert.deepStrictEqual(parseRoute("/"), { name: "home" })
    assert.deepStrictEqual(parseRoute("/nope/x/y"), { name: "not-found" })
    assert.deepStrictEqual(parseRoute("/messages"), { name: "messages", id: null })
    assert.deepStrictEqual(parseRoute("/messages/0b9d-4c"), { name: "messages", id: "0b9d-4c" })
    assert.deepStrictEqual(parseRoute("/messages/a/b"), { name: "not-found" })
    assert.isTrue(isAppPath("/messages/0b9d-4c"))
    assert.isFalse(isAppPath("/api/v1/feed"))
    assert.isFalse(isAppPath("/media/x.webp"))
    assert.isTrue(isAppPath("/u/alice"))
    assert.deepStrictEqual(parseRoute("/u/bob.builder/followers"), { name: "people", username: "bob.builder", list: "followers" })
    assert.deepStrictEqual(parseRoute("/u/bob/following"), { name: "people", username: "bob", list: "following" })
    assert.deepStrictEqual(parseRoute("/u/bob/likes"), { name: "not-found" })
    assert.deepStrictEqual(parseRoute("/requests"), { name: "requests" })
    assert.deepStrictEqual(parseRoute("/saved"), { name: "saved" })
  })
})

describe("ap-app", () => {
  it("sign-up errors show in plain sentences at their field, which gets focus", async () => {
    let answer = { status: 409, body: { error: { code: "Conflict", message: "that username is taken", details: { field: "username" } } } }
    fakeFetch({ "GET /auth/session": { body: { user: null } }, "POST /auth/signup": () => answer })
    history.replaceState(null, "", "/signup")
    const el = await make()
    await waitFor(() => el.ready)
    await el.updateComplete
    const form = shadow(el).querySelector("form")!
    const field = (name: string) => form.querySelector<HTMLInputElement>(`[name=${name}]`)!
    field("username").value = "taken"
    field("email").value = "a@example.com"
    field("password").value = "long enough pass"
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => shadow(el).querySelector("#username-error")?.textContent === "That username is taken. Try another one.")
    assert.strictEqual(field("username").getAttribute("aria-invalid"), "true")
    assert.strictEqual(field("username").getAttribute("aria-describedby"), "username-error")
    assert.strictEqual(shadow(el).activeElement, field("username"))
    assert.strictEqual(shadow(el).querySelector("#form-error")!.textContent, "", "nothing raw above the button")
    answer = { status: 400, body: { error: { code: "BadRequest", message: "Expected an email", details: [{ path: ["email"], message: "bad" }] } as never } }
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => shadow(el).querySelector("#email-error")?.textContent === "Enter an email address like name@example.com.")
    assert.strictEqual(field("username").getAttribute("aria-invalid"), "false")
    assert.strictEqual(shadow(el).activeElement, field("email"))
  })

  it("asks a signed-out visitor to log in, and logs in", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: null } },
      "POST /auth/login": (call) =>
        (call.body as { password: string }).password === "right"
          ? { body: { user: me("ann"), token: "t" } }
          : { status: 401, body: { error: { code: "Unauthorized", message: "no" } } },
      "GET /feed": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /notifications": { body: { items: [], nextCursor: null, hasMore: false, unreadCount: 0 } }
    })
    const el = await make()
    await waitFor(() => el.ready)
    await el.updateComplete
    assert.include(heading(el).textContent!, "Log in")
    const form = shadow(el).querySelector("form")!
    form.querySelector<HTMLInputElement>("[name=login]")!.value = "ann"
    form.querySelector<HTMLInputElement>("[name=password]")!.value = "wrong"
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => shadow(el).querySelector("[role=alert]")!.textContent!.includes("Wrong username"))
    form.querySelector<HTMLInputElement>("[name=password]")!.value = "right"
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => shadow(el).querySelector("ap-feed"))
    assert.strictEqual(heading(el).textContent, "Home")
    assert.strictEqual(location.pathname, "/")
  })

  it("routes links client-side, focuses the new page's heading, and follows back/forward", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me("ann") } },
      "GET /feed": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /notifications": { body: { items: [], nextCursor: null, hasMore: false, unreadCount: 0 } },
      "GET /users/ann/posts": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /users/ann": { body: profile("ann") }
    })
    const el = await make()
    await waitFor(() => shadow(el).querySelector("ap-feed"))
    const before = history.length
    const link = shadow(el).querySelector<HTMLAnchorElement>('nav a[href="/u/ann"]')!
    link.click()
    await waitFor(() => shadow(el).querySelector("ap-profile"))
    assert.strictEqual(location.pathname, "/u/ann")
    assert.strictEqual(history.length, before + 1)
    await el.updateComplete
    assert.strictEqual(shadow(el).activeElement, heading(el))
    assert.include(document.title, "ann")
    history.back()
    await waitFor(() => shadow(el).querySelector("ap-feed"))
    assert.strictEqual(location.pathname, "/")
  })

  it("opens a thread from a profile's Message button, with the inbox beside it and a live unread badge in the header", async () => {
    let unread = { unreadCount: 2, conversations: 1, requests: 0 }
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me("ann") } },
      "GET /feed": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /notifications": { body: { items: [], nextCursor: null, hasMore: false, unreadCount: 0 } },
      "GET /conversations/unread": () => ({ body: unread }),
      "GET /users/bob/posts": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /users/bob": { body: profile("bob") },
      "POST /conversations": { status: 201, body: conversation("c9", "bob") },
      "GET /conversations/requests": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /conversations/c9/messages": { body: { items: [], nextCursor: null, hasMore: false, newerCursor: null, hasNewer: false } },
      "GET /conversations/c9": { body: conversation("c9", "bob") },
      "GET /conversations": { body: { items: [conversation("c9", "bob")], nextCursor: null, hasMore: false } }
    })
    history.replaceState(null, "", "/u/bob")
    const el = await make()
    const badge = () => shadow(el).querySelector("header ap-dm-inbox[variant=badge]")!
    await waitFor(() => shadow(badge()).querySelector("[part=badge]")?.textContent === "2")
    const profileEl = await (async () => {
      // the profile screen is a chunk the app fetches when first shown
      await waitFor(() => shadow(el).querySelector("ap-profile")?.shadowRoot?.querySelector("[part=message-button]"), 10_000)
      return shadow(el).querySelector("ap-profile")!
    })()
    shadow(profileEl).querySelector<HTMLButtonElement>("[part=message-button]")!.click()
    await waitFor(() => location.pathname === "/messages/c9")
    assert.deepStrictEqual(calls.find((c) => c.method === "POST" && c.path === "/conversations")!.body, { memberUsernames: ["bob"] })
    await waitFor(() => shadow(el).querySelector("ap-dm-thread"), 10_000)
    assert.strictEqual(shadow(el).querySelector("ap-dm-thread")!.getAttribute("conversation-id"), "c9")
    assert.strictEqual(shadow(el).querySelector("main ap-dm-inbox")!.getAttribute("selected"), "c9")
    assert.strictEqual(heading(el).textContent, "Messages")
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    unread = { unreadCount: 3, conversations: 1, requests: 0 }
    FakeWebSocket.last.frame("conversation_updated", { conversationId: "c9", reason: "created" }, 1)
    await waitFor(() => shadow(badge()).querySelector("[part=badge]")?.textContent === "3")
  })
})
