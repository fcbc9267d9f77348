// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, FakeWebSocket, fakeFetch, me, mount, notification, post, profile, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./profile.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
})

const make = async (username: string) => {
  const el = document.createElement("ap-profile")
  el.client = testClient()
  el.username = username
  return mount(el)
}

const button = (el: Element) => shadow(el).querySelector<HTMLButtonElement>("[part=follow-button]")

describe("ap-profile", () => {
  it("shows the header, counts and grid, and follows", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/posts": { body: { items: [post("p1")], nextCursor: null, hasMore: false } },
      "GET /users/bob": { body: profile("bob") },
      "POST /users/bob/follow": { body: { status: "following" } }
    })
    const el = await make("bob")
    await waitFor(() => shadow(el).querySelector(".grid img"))
    assert.strictEqual(shadow(el).querySelector("h2")!.textContent, "bob")
    assert.include(shadow(el).querySelector(".counts")!.textContent!.replace(/\s+/g, " "), "10 followers")
    assert.strictEqual(shadow(el).querySelector(".grid img")!.getAttribute("alt"), "alt p1")
    assert.strictEqual(shadow(el).querySelector(".grid a")!.getAttribute("href"), "/p/p1")
    assert.strictEqual(button(el)!.textContent!.trim(), "Follow")
    const events: Array<string> = []
    el.addEventListener("ap-follow", (e) => events.push(e.detail.status))
    button(el)!.click()
    await waitFor(() => events.length === 1)
    await el.updateComplete
    assert.strictEqual(button(el)!.textContent!.trim(), "Following")
    assert.include(shadow(el).querySelector(".counts")!.textContent!.replace(/\s+/g, " "), "11 followers")
    assert.deepStrictEqual(events, ["following"])
    assert.isTrue(calls.some((c) => c.method === "POST" && c.path === "/users/bob/follow"))
  })

  it("shows a private account's notice and a Requested button after asking", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/carol": { body: profile("carol", { isPrivate: true, canViewContent: false }) },
      "POST /users/carol/follow": { body: { status: "requested" } }
    })
    const el = await make("carol")
    await waitFor(() => shadow(el).querySelector("[part=private]"))
    assert.include(shadow(el).querySelector("[part=private]")!.textContent!, "This account is private")
    button(el)!.click()
    await waitFor(() => button(el)!.textContent!.trim() === "Requested")
  })

  it("offers Unblock for an account the viewer blocks, no button to anonymous viewers, and reads a 404", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: null } },
      "GET /users/dave/posts": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /users/dave": { body: profile("dave", { viewer: null }) },
      "GET /users/ghost": { status: 404, body: { error: { code: "NotFound", message: "no" } } }
    })
    const anonymous = await make("dave")
    await waitFor(() => shadow(anonymous).querySelector("h2"))
    assert.isNull(button(anonymous))
    const missing = await make("ghost")
    await waitFor(() => shadow(missing).querySelector("[role=alert]"))
    assert.include(shadow(missing).textContent!, "doesn't exist")
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/erin": { body: profile("erin", { canViewContent: false, viewer: { isFollowing: false, followsYou: false, requested: false, blocked: true } as never }) }
    })
    const blocked = await make("erin")
    await waitFor(() => button(blocked)?.textContent?.trim() === "Unblock")
  })

  it("the … menu mutes with Undo, copies the link, and blocks after a confirm; counts link to the lists", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/bob/posts": { body: { items: [post("p1")], nextCursor: null, hasMore: false } },
      "GET /users/bob": { body: profile("bob") },
      "POST /users/bob/mute": { status: 204 },
      "DELETE /users/bob/mute": { status: 204 },
      "POST /users/bob/block": { status: 204 }
    })
    const el = await make("bob")
    await waitFor(() => shadow(el).querySelector(".grid img"))
    const links = Array.from(shadow(el).querySelectorAll<HTMLAnchorElement>(".counts a")).map((a) => a.getAttribute("href"))
    assert.deepStrictEqual(links, ["/u/bob/followers", "/u/bob/following"])
    const more = shadow(el).querySelector<HTMLButtonElement>("[part=more-button]")!
    assert.strictEqual(more.getAttribute("aria-expanded"), "false")
    more.click()
    await el.updateComplete
    assert.strictEqual(more.getAttribute("aria-expanded"), "true")
    const menuItem = (label: string) => Array.from(shadow(el).querySelectorAll<HTMLButtonElement>("[part=menu] button")).find((b) => b.textContent!.trim() === label)
    assert.deepStrictEqual(Array.from(shadow(el).querySelectorAll("[part=menu] li")).map((li) => li.textContent!.trim()), ["Mute", "Block", "Copy link"])
    menuItem("Mute")!.click()
    await waitFor(() => shadow(el).querySelector("[role=status]")!.textContent!.includes("Muted bob"))
    shadow(el).querySelector<HTMLButtonElement>("[role=status] button")!.click()
    await waitFor(() => calls.some((c) => c.method === "DELETE" && c.path === "/users/bob/mute") && !el.busy)
    let writes: Array<string> = []
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (t: string) => void writes.push(t) }, configurable: true })
    more.click()
    await el.updateComplete
    menuItem("Copy link")!.click()
    await waitFor(() => writes.length === 1)
    assert.match(writes[0]!, /\/u\/bob$/)
    window.confirm = () => true
    more.click()
    await el.updateComplete
    menuItem("Block")!.click()
    await waitFor(() => button(el)?.textContent?.trim() === "Unblock")
    // the blocker keeps the header, without the content
    assert.strictEqual(shadow(el).querySelector("h2")!.textContent, "bob")
    assert.isNull(shadow(el).querySelector(".grid"))
    assert.include(shadow(el).querySelector("[part=private]")!.textContent!, "You blocked this account")
    writes = []
  })

  it("Requested turns into Following live when the request is approved", async () => {
    let approved = false
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/carol/posts": { body: { items: [post("c1")], nextCursor: null, hasMore: false } },
      "GET /users/carol": () => ({
        body: profile("carol", { isPrivate: true, canViewContent: approved, viewer: { isFollowing: approved, followsYou: false, requested: !approved, blocked: false } as never })
      })
    })
    const el = await make("carol")
    await waitFor(() => button(el)?.textContent?.trim() === "Requested")
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    approved = true
    FakeWebSocket.last.frame("notification", { notification: notification("n9", { kind: "follow_approved", actors: [card("carol")], actorCount: 1 } as never), unreadCount: 1 }, 7)
    await waitFor(() => button(el)?.textContent?.trim() === "Following")
    await waitFor(() => shadow(el).querySelector(".grid img"))
  })

  it("your own private account says so, and its menu leads to settings and requests", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me("me") } },
      "GET /users/me/posts": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /users/me": { body: profile("me", { id: me("me").id, isPrivate: true, viewer: null }) }
    })
    const el = await make("me")
    await waitFor(() => shadow(el).querySelector(".private-note"))
    assert.include(shadow(el).querySelector(".private-note")!.textContent!, "Your account is private")
    assert.isNull(button(el))
    shadow(el).querySelector<HTMLButtonElement>("[part=more-button]")!.click()
    await el.updateComplete
    assert.deepStrictEqual(Array.from(shadow(el).querySelectorAll("[part=menu] a")).map((a) => a.getAttribute("href")), ["/settings", "/requests", "/saved"])
  })
})
