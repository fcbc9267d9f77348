// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { fakeFetch, me, mount, post, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./saved.ts"

afterEach(() => {
  document.body.innerHTML = ""
})

describe("ap-saved", () => {
  it("shows saved posts as a grid, a page at a time, each opening its post", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/saved?limit": { body: { items: [post("p1"), post("p2")], nextCursor: "c", hasMore: true } },
      "GET /users/me/saved?cursor=c": { body: { items: [post("p3"), post("p2")], nextCursor: null, hasMore: false } }
    })
    const el = document.createElement("ap-saved")
    el.client = testClient()
    await mount(el)
    await waitFor(() => shadow(el).querySelectorAll(".grid li a").length === 2)
    assert.strictEqual(shadow(el).querySelector(".grid a")!.getAttribute("href"), "/p/p1")
    shadow(el).querySelector<HTMLButtonElement>(".more button")!.click()
    await waitFor(() => shadow(el).querySelectorAll(".grid li a").length === 3)
    assert.deepStrictEqual(calls.map((c) => c.path), ["/users/me/saved?limit=24", "/users/me/saved?cursor=c&limit=24"])
  })

  it("nothing saved: says how to save, with a way back", async () => {
    fakeFetch({ "GET /users/me/saved": { body: { items: [], nextCursor: null, hasMore: false } } })
    const el = document.createElement("ap-saved")
    el.client = testClient()
    await mount(el)
    await waitFor(() => shadow(el).querySelector(".empty"))
    assert.include(shadow(el).querySelector(".empty")!.textContent, "Nothing saved yet")
  })
})
