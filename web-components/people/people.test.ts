// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./people.ts"

afterEach(() => {
  document.body.innerHTML = ""
})

const session = { body: { user: me("viewer") } }

describe("ap-people", () => {
  it("lists followers a page at a time, with the viewer's own follow button per person", async () => {
    const calls = fakeFetch({
      "GET /auth/session": session,
      "GET /users/bob/followers?limit": { body: { items: [{ user: card("anna"), isFollowing: false }, { user: card("viewer", me("viewer").id), isFollowing: false }], nextCursor: "c1", hasMore: true } },
      "GET /users/bob/followers?cursor=c1": { body: { items: [{ user: card("carl"), isFollowing: true }], nextCursor: null, hasMore: false } },
      "POST /users/anna/follow": { body: { status: "requested" } }
    })
    const el = document.createElement("ap-people")
    el.client = testClient()
    el.list = "followers"
    el.username = "bob"
    await mount(el)
    await waitFor(() => shadow(el).querySelectorAll("[part=item]").length === 2)
    // no button on the viewer's own row
    assert.strictEqual(shadow(el).querySelectorAll("[part=action]").length, 1)
    const follow = shadow(el).querySelector<HTMLButtonElement>("[part=action]")!
    assert.strictEqual(follow.getAttribute("aria-label"), "Follow anna")
    follow.click()
    await waitFor(() => shadow(el).querySelector("[part=action]")?.textContent?.trim() === "Requested")
    shadow(el).querySelector<HTMLButtonElement>(".more button")!.click()
    await waitFor(() => shadow(el).querySelectorAll("[part=item]").length === 3)
    assert.isNull(shadow(el).querySelector(".more"))
    assert.strictEqual(shadow(el).querySelectorAll("[part=item]")[2]!.querySelector("[part=action]")!.textContent!.trim(), "Following")
    assert.deepStrictEqual(calls.filter((c) => c.path.includes("followers")).map((c) => c.path), ["/users/bob/followers?limit=20", "/users/bob/followers?cursor=c1&limit=20"])
  })

  it("a private account's lists say why they are hidden", async () => {
    fakeFetch({
      "GET /auth/session": session,
      "GET /users/priv/following": { status: 403, body: { error: { code: "Forbidden", message: "@priv is private" } } }
    })
    const el = document.createElement("ap-people")
    el.client = testClient()
    el.list = "following"
    el.username = "priv"
    await mount(el)
    await waitFor(() => shadow(el).querySelector("[role=alert]"))
    assert.include(shadow(el).querySelector("[role=alert]")!.textContent, "private")
  })

  it("follow requests: Approve and Deny answer in place", async () => {
    const calls = fakeFetch({
      "GET /auth/session": session,
      "GET /follow-requests": { body: { items: [{ id: "r1", user: card("anna"), createdAt: new Date().toISOString() }, { id: "r2", user: card("ben"), createdAt: new Date().toISOString() }], nextCursor: null, hasMore: false } },
      "POST /follow-requests/r1/approve": { status: 204 },
      "POST /follow-requests/r2/deny": { status: 204 }
    })
    const el = document.createElement("ap-people")
    el.client = testClient()
    el.list = "requests"
    await mount(el)
    await waitFor(() => shadow(el).querySelectorAll("[part=item]").length === 2)
    shadow(el).querySelector<HTMLButtonElement>("[aria-label='Approve anna']")!.click()
    shadow(el).querySelector<HTMLButtonElement>("[aria-label='Deny ben']")!.click()
    await waitFor(() => shadow(el).querySelectorAll("[role=status]").length === 2)
    assert.include(shadow(el).textContent, "Approved: anna now follows you.")
    assert.deepStrictEqual(calls.filter((c) => c.method === "POST").map((c) => c.path), ["/follow-requests/r1/approve", "/follow-requests/r2/deny"])
  })

  it("an empty list offers a way to find people", async () => {
    fakeFetch({ "GET /auth/session": session, "GET /users/bob/following": { body: { items: [], nextCursor: null, hasMore: false } } })
    const el = document.createElement("ap-people")
    el.client = testClient()
    el.list = "following"
    el.username = "bob"
    await mount(el)
    await waitFor(() => shadow(el).querySelector(".empty"))
    assert.include(shadow(el).querySelector(".empty")!.textContent, "bob doesn't follow anyone yet.")
    assert.strictEqual(shadow(el).querySelector(".empty a")!.getAttribute("href"), "/search")
  })
})
