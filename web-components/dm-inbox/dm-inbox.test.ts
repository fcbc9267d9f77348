// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, conversation, dmMessage, FakeWebSocket, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import type { ApDmInbox } from "./dm-inbox.component.ts"
import { previewText } from "./dm-inbox.component.ts"
import "./dm-inbox.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

const list = (items: ReadonlyArray<unknown>) => ({ body: { items, nextCursor: null, hasMore: false } })

const preview = (seq: number, from: string, text: string) => ({ seq, sender: card(from), kind: "text" as const, text, deleted: false, createdAt: "2026-01-01T00:00:00Z" })

const make = async (variant: "list" | "badge" = "list") => {
  const el = document.createElement("ap-dm-inbox")
  el.variant = variant
  el.client = testClient()
  await mount(el)
  await waitFor(() => el.loaded)
  await el.updateComplete
  await waitFor(() => FakeWebSocket.instances.length === 1)
  FakeWebSocket.last.open()
  return el
}

const rows = (el: ApDmInbox) =>
  Array.from(shadow(el).querySelectorAll("[part=thread]")).map((a) => ({
    title: a.querySelector(".name")!.textContent!.trim(),
    preview: a.querySelector("[part=preview]")!.textContent!.trim(),
    badge: a.querySelector("[part=badge]")?.textContent ?? null
  }))

describe("ap-dm-inbox", () => {
  it("lists threads with previews and unread badges, and reorders them live as messages arrive", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/requests": list([]),
      "GET /conversations/c3": { body: conversation("c3", "carol", { lastSeq: 1, unreadCount: 1, lastMessage: preview(1, "carol", "hi, new here"), lastActivityAt: "2026-01-03T00:00:00Z" }) },
      "GET /conversations": list([
        conversation("c1", "alice", { lastSeq: 4, unreadCount: 2, lastMessage: preview(4, "alice", "see you"), lastActivityAt: "2026-01-02T00:00:00Z" }),
        conversation("c2", "bob", { lastSeq: 7, lastMessage: preview(7, "me", "done") })
      ])
    })
    const el = await make()
    assert.deepStrictEqual(rows(el), [
      { title: "ALICE", preview: "see you", badge: "2" },
      { title: "BOB", preview: "You: done", badge: null }
    ])
    assert.include(shadow(el).querySelector("[part=thread]")!.textContent!, "2 unread")
    FakeWebSocket.last.frame("message", { conversationId: "c2", message: dmMessage("c2", 8, "bob", { text: "one more thing" }), request: false }, 20)
    await el.updateComplete
    assert.deepStrictEqual(rows(el)[0], { title: "BOB", preview: "one more thing", badge: "1" })
    // your own message moves the thread without counting as unread
    FakeWebSocket.last.frame("message", { conversationId: "c1", message: dmMessage("c1", 5, "me", { text: "ok" }), request: false }, 21)
    await el.updateComplete
    assert.deepStrictEqual(rows(el)[0], { title: "ALICE", preview: "You: ok", badge: "2" })
    // a thread the list does not hold is fetched
    FakeWebSocket.last.frame("message", { conversationId: "c3", message: dmMessage("c3", 1, "carol", { text: "hi, new here" }), request: false }, 22)
    await waitFor(() => rows(el).length === 3)
    assert.deepStrictEqual(rows(el)[0], { title: "CAROL", preview: "hi, new here", badge: "1" })
    assert.isTrue(calls.some((c) => c.path === "/conversations/c3"))
    // read elsewhere: the badge goes
    FakeWebSocket.last.frame("read_receipt", { conversationId: "c2", userId: "id-me", readSeq: 8 }, 23)
    await el.updateComplete
    assert.strictEqual(rows(el).find((r) => r.title === "BOB")!.badge, null)
  })

  it("refetches a thread on conversation_updated, and drops it when it answers 404", async () => {
    let title = "Old"
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/requests": list([]),
      "GET /conversations/g1": () => ({ body: conversation("g1", "alice", { kind: "group", title }) }),
      "GET /conversations/c1": { status: 404, body: { error: { code: "NotFound", message: "gone" } } },
      "GET /conversations": list([conversation("g1", "alice", { kind: "group", title: "Old" }), conversation("c1")])
    })
    const el = await make()
    title = "New name"
    FakeWebSocket.last.frame("conversation_updated", { conversationId: "g1", reason: "title" }, 3)
    await waitFor(() => rows(el)[0]!.title === "New name")
    FakeWebSocket.last.frame("conversation_updated", { conversationId: "c1", reason: "left" }, 4)
    await waitFor(() => rows(el).length === 1)
  })

  it("has a Requests tab with Accept and Decline", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/requests": list([
        conversation("r1", "dave", { status: "request", lastMessage: preview(1, "dave", "hello stranger") }),
        conversation("r2", "eve", { status: "request", lastMessage: preview(1, "eve", "buy my stuff") })
      ]),
      "GET /conversations": list([conversation("c1")]),
      "POST /conversations/r1/accept": { body: conversation("r1", "dave", { status: "accepted", lastMessage: preview(1, "dave", "hello stranger") }) },
      "POST /conversations/r2/decline": { status: 204 }
    })
    const el = await make()
    const tabs = Array.from(shadow(el).querySelectorAll<HTMLButtonElement>("[role=tab]"))
    assert.deepStrictEqual(tabs.map((t) => t.textContent!.replace(/\s+/g, " ").trim()), ["Inbox", "Requests (2)"])
    tabs[1]!.click()
    await el.updateComplete
    assert.strictEqual(tabs[1]!.getAttribute("aria-selected"), "true")
    assert.deepStrictEqual(rows(el).map((r) => r.preview), ["hello stranger", "buy my stuff"])
    const decisions: Array<string> = []
    el.addEventListener("ap-conversation-request", (e) => decisions.push(`${e.detail.conversationId}:${e.detail.decision}`))
    shadow(el).querySelector<HTMLButtonElement>('[aria-label="Accept the request from DAVE"]')!.click()
    await waitFor(() => decisions.length === 1)
    await el.updateComplete
    assert.deepStrictEqual(rows(el).map((r) => r.title), ["EVE"])
    shadow(el).querySelector<HTMLButtonElement>("[part=decline]")!.click()
    await waitFor(() => decisions.length === 2)
    await el.updateComplete
    assert.deepStrictEqual(decisions, ["r1:accepted", "r2:declined"])
    assert.include(shadow(el).textContent!, "No message requests.")
    assert.isTrue(calls.some((c) => c.method === "POST" && c.path === "/conversations/r2/decline"))
    tabs[0]!.click()
    await el.updateComplete
    assert.deepStrictEqual(rows(el).map((r) => r.title), ["DAVE", "ALICE"])
    // a new request arriving live lands in its tab
    FakeWebSocket.last.frame("message", { conversationId: "r1", message: dmMessage("r1", 2, "dave"), request: false }, 30)
    await el.updateComplete
    assert.strictEqual(rows(el)[0]!.preview, "message 2")
  })

  it("fires ap-conversation-select when a thread is chosen; cancelling it keeps the link from navigating", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /conversations/requests": list([]), "GET /conversations": list([conversation("c1")]) })
    const el = await make()
    el.selected = "c1"
    await el.updateComplete
    const link = shadow(el).querySelector<HTMLAnchorElement>("[part=thread]")!
    assert.strictEqual(link.getAttribute("href"), "/messages/c1")
    assert.strictEqual(link.getAttribute("aria-current"), "page")
    const chosen: Array<string> = []
    el.addEventListener("ap-conversation-select", (e) => {
      chosen.push(e.detail.conversationId)
      e.preventDefault()
    })
    const click = new MouseEvent("click", { bubbles: true, composed: true, cancelable: true })
    link.dispatchEvent(click)
    assert.deepStrictEqual(chosen, ["c1"])
    assert.isTrue(click.defaultPrevented)
  })

  it("badge: shows the unread count from /conversations/unread and follows DM frames", async () => {
    let unread = { unreadCount: 3, conversations: 2, requests: 0 }
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /conversations/unread": () => ({ body: unread }) })
    const el = await make("badge")
    assert.strictEqual(shadow(el).querySelector("[part=badge]")!.textContent, "3")
    assert.strictEqual(shadow(el).querySelector("a")!.getAttribute("aria-label"), "Messages, 3 unread")
    const counts: Array<number> = []
    el.addEventListener("ap-dm-unread", (e) => counts.push(e.detail.unreadCount))
    unread = { unreadCount: 4, conversations: 2, requests: 0 }
    FakeWebSocket.last.frame("message", { conversationId: "c1", message: dmMessage("c1", 9), request: false }, 40)
    await waitFor(() => counts.length === 1)
    await el.updateComplete
    assert.strictEqual(shadow(el).querySelector("[part=badge]")!.textContent, "4")
    unread = { unreadCount: 0, conversations: 0, requests: 0 }
    FakeWebSocket.last.frame("read_receipt", { conversationId: "c1", userId: "id-me", readSeq: 9 }, 41)
    await waitFor(() => counts.length === 2)
    await el.updateComplete
    assert.isNull(shadow(el).querySelector("[part=badge]"))
  })

  it("pages further threads in with Show more, without repeating one that moved up live", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /conversations/requests": list([]),
      "GET /conversations?cursor=next": list([conversation("c2", "bob"), conversation("c3", "carol")]),
      "GET /conversations/c2": { body: conversation("c2", "bob", { lastSeq: 1 }) },
      "GET /conversations": { body: { items: [conversation("c1")], nextCursor: "next", hasMore: true } }
    })
    const el = await make()
    FakeWebSocket.last.frame("message", { conversationId: "c2", message: dmMessage("c2", 1, "bob"), request: false }, 50)
    await waitFor(() => rows(el).length === 2)
    shadow(el).querySelector<HTMLButtonElement>("[part=more]")!.click()
    await waitFor(() => rows(el).length === 3)
    assert.deepStrictEqual(rows(el).map((r) => r.title), ["BOB", "ALICE", "CAROL"])
    assert.isNull(shadow(el).querySelector("[part=more]"))
    assert.isTrue(calls.some((c) => c.path === "/conversations?cursor=next&limit=30"))
  })

  it("previews photos, shared posts and deleted messages", () => {
    assert.strictEqual(previewText(null, "id-me"), "No messages yet")
    assert.strictEqual(previewText({ ...preview(1, "alice", ""), kind: "photo", text: null }, "id-me"), "Sent a photo")
    assert.strictEqual(previewText({ ...preview(1, "me", "x"), deleted: true }, "id-me"), "You: Message deleted")
    assert.strictEqual(previewText({ ...preview(1, "alice", ""), kind: "post" }, "id-me"), "Shared a post")
  })
})
