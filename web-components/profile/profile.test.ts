// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { fakeFetch, me, mount, post, profile, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./profile.ts"

afterEach(() => {
  document.body.innerHTML = ""
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
})
