// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, fakeFetch, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./user-search.ts"

afterEach(() => {
  document.body.innerHTML = ""
})

describe("ap-user-search", () => {
  it("searches once after typing pauses, and Enter on an arrowed-to result navigates", async () => {
    const calls = fakeFetch({
      "GET /search/users": (call) => ({
        body: {
          items: [{ user: card("anna"), isFollowing: false }, { user: card("annabel"), isFollowing: true }],
          nextCursor: null,
          hasMore: false,
          q: call.path
        }
      })
    })
    const el = document.createElement("ap-user-search")
    el.client = testClient()
    el.debounce = 30
    await mount(el)
    const input = shadow(el).querySelector("input")!
    assert.strictEqual(input.getAttribute("role"), "combobox")
    for (const value of ["a", "an", "ann"]) {
      input.value = value
      input.dispatchEvent(new Event("input"))
    }
    await waitFor(() => shadow(el).querySelectorAll("[role=option]").length === 2)
    assert.deepStrictEqual(calls.map((c) => c.path), ["/search/users?q=ann&limit=8"])
    assert.strictEqual(input.getAttribute("aria-expanded"), "true")
    assert.strictEqual(input.getAttribute("aria-activedescendant"), "result-0")
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown" }))
    await el.updateComplete
    assert.strictEqual(input.getAttribute("aria-activedescendant"), "result-1")
    const paths: Array<string> = []
    el.addEventListener("ap-navigate", (e) => {
      e.preventDefault()
      paths.push(e.detail.path)
    })
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }))
    assert.deepStrictEqual(paths, ["/u/annabel"])
    // no link nested inside an option (axe: nested-interactive); a click opens the profile
    assert.isNull(shadow(el).querySelector("[role=option] a"))
    shadow(el).querySelector<HTMLElement>("#result-0")!.click()
    assert.deepStrictEqual(paths, ["/u/annabel", "/u/anna"])
  })

  it("says when no one is found", async () => {
    fakeFetch({ "GET /search/users": { body: { items: [], nextCursor: null, hasMore: false } } })
    const el = document.createElement("ap-user-search")
    el.client = testClient()
    await mount(el)
    await el.search("zzz")
    await el.updateComplete
    assert.include(shadow(el).querySelector("[role=status]")!.textContent!, "No one found")
  })
})
