// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, FakeWebSocket, fakeFetch, me, mount, notification, shadow, testClient, waitFor } from "../shared/testing.ts"
import { describeActors } from "./notifications.component.ts"
import "./notifications.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

describe("ap-notifications", () => {
  it("badge: shows the unread count and follows notification frames live", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /notifications": { body: { items: [], nextCursor: null, hasMore: false, unreadCount: 0 } } })
    const el = document.createElement("ap-notifications")
    el.variant = "badge"
    el.client = testClient()
    await mount(el)
    await waitFor(() => el.loaded)
    assert.isNull(shadow(el).querySelector("[part=badge]"))
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    const counts: Array<number> = []
    el.addEventListener("ap-unread", (e) => counts.push(e.detail.unreadCount))
    FakeWebSocket.last.frame("notification", { notification: notification("n1"), unreadCount: 1 }, 4)
    await el.updateComplete
    assert.strictEqual(shadow(el).querySelector("[part=badge]")!.textContent, "1")
    assert.strictEqual(shadow(el).querySelector("a")!.getAttribute("aria-label"), "Notifications, 1 unread")
    assert.deepStrictEqual(counts, [1])
  })

  it("list: groups actors, marks all read", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /notifications": {
        body: { items: [notification("n1", { actors: [card("alice"), card("bob")], actorCount: 4 } as never)], nextCursor: null, hasMore: false, unreadCount: 1 }
      },
      "POST /notifications/read": { body: { unreadCount: 0 } }
    })
    const el = document.createElement("ap-notifications")
    el.client = testClient()
    await mount(el)
    await waitFor(() => shadow(el).querySelector("li"))
    assert.include(shadow(el).querySelector("li")!.textContent!.replace(/\s+/g, " "), "alice and 3 others liked your post")
    assert.include(shadow(el).querySelector("li")!.className, "unread")
    shadow(el).querySelector<HTMLButtonElement>("[part=mark-read]")!.click()
    await waitFor(() => el.unreadCount === 0)
    await el.updateComplete
    assert.notInclude(shadow(el).querySelector("li")!.className, "unread")
    assert.deepStrictEqual(calls.find((c) => c.method === "POST")!.body, {})
  })

  it("a follow request offers Approve and Deny per person waiting, and says what became of each", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /notifications": {
        body: { items: [notification("n1", { kind: "follow_request", actors: [card("anna"), card("ben"), card("cleo")], actorCount: 5, post: null } as never)], nextCursor: null, hasMore: false, unreadCount: 1 }
      },
      // cleo's request was already answered elsewhere: not offered
      "GET /follow-requests": { body: { items: [{ id: "ra", user: card("anna"), createdAt: "2026-01-01T00:00:00Z" }, { id: "rb", user: card("ben"), createdAt: "2026-01-01T00:00:00Z" }], nextCursor: null, hasMore: false } },
      "POST /follow-requests/ra/approve": { status: 204 },
      "POST /follow-requests/rb/deny": { status: 404, body: { error: { code: "NotFound", message: "no such request" } } }
    })
    const el = document.createElement("ap-notifications")
    el.client = testClient()
    await mount(el)
    await waitFor(() => shadow(el).querySelector("[aria-label='Approve anna']"))
    assert.isNull(shadow(el).querySelector("[aria-label='Approve cleo']"))
    assert.strictEqual(shadow(el).querySelector("[part=requests] a")!.getAttribute("href"), "/requests")
    shadow(el).querySelector<HTMLButtonElement>("[aria-label='Approve anna']")!.click()
    shadow(el).querySelector<HTMLButtonElement>("[aria-label='Deny ben']")!.click()
    await waitFor(() => shadow(el).querySelectorAll("[part=requests] [role=status]").length === 2)
    const text = shadow(el).querySelector("[part=requests]")!.textContent!.replace(/\s+/g, " ")
    assert.include(text, "Approved: anna now follows you.")
    assert.include(text, "ben's request was already answered.")
    assert.deepStrictEqual(calls.filter((c) => c.method === "POST").map((c) => c.path), ["/follow-requests/ra/approve", "/follow-requests/rb/deny"])
  })

  it("describes actors", () => {
    assert.strictEqual(describeActors(notification("a")), "alice")
    assert.strictEqual(describeActors(notification("a", { actors: [card("a"), card("b")], actorCount: 2 } as never)), "a and b")
  })
})
