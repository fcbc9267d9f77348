// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, type Call, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import { placement } from "./avatar.ts"
import "./settings.ts"

afterEach(() => {
  document.body.innerHTML = ""
})

const empty = { body: { items: [], nextCursor: null, hasMore: false } }
const token = (id: string, name: string, scope = "read") => ({
  id,
  name,
  scope,
  allowedOrigins: [],
  hint: "ape_abcd",
  createdAt: "2026-12-01T10:00:00.000Z",
  lastUsedAt: null
})
const SECRET = `ape_${"s".repeat(43)}`

const make = async () => {
  const el = document.createElement("ap-settings")
  el.client = testClient()
  await mount(el)
  await waitFor(() => shadow(el).querySelector("#embed-heading"))
  await waitFor(() => !shadow(el).textContent!.includes("Loading"))
  return el
}
const $ = <E extends Element = HTMLElement>(el: Element, selector: string) => shadow(el).querySelector<E>(selector)!
const sent = (calls: ReadonlyArray<Call>, method: string, path: string) => calls.filter((c) => c.method === method && c.path === path)

describe("ap-settings: muted accounts", () => {
  it("unmutes a row at once and offers Undo, which mutes again", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": empty,
      "GET /users/me/embed-tokens": { body: { items: [] } },
      "GET /users/me/muted": { body: { items: [card("loud")], nextCursor: null, hasMore: false } },
      "DELETE /users/loud/mute": { status: 204 },
      "POST /users/loud/mute": { status: 204 }
    })
    const el = await make()
    assert.include($(el, "[part=muted-list]").textContent, "loud")
    $<HTMLButtonElement>(el, "[part=unmute]").click()
    await waitFor(() => $(el, "[part=muted-list] [data-undo=loud]"))
    assert.strictEqual(sent(calls, "DELETE", "/users/loud/mute").length, 1)
    assert.include($(el, "[part=muted-list]").textContent, "Unmuted loud.")
    assert.strictEqual(shadow(el).activeElement, $(el, "[part=muted-list] [data-undo=loud]"), "focus moves to Undo")
    $<HTMLButtonElement>(el, "[part=muted-list] [data-undo=loud]").click()
    await waitFor(() => $(el, "[part=unmute]"))
    assert.strictEqual(sent(calls, "POST", "/users/loud/mute").length, 1)
  })
})

describe("ap-settings: embed tokens", () => {
  it("creates a token, shows its secret once with Copy and a snippet, and lists it", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": empty,
      "GET /users/me/muted": empty,
      "GET /users/me/embed-tokens": { body: { items: [token("t0", "Old site")] } },
      "POST /users/me/embed-tokens": (call) => ({
        status: 201,
        body: { token: token("t1", (call.body as { name: string }).name, (call.body as { scope: string }).scope), secret: SECRET }
      })
    })
    let copied = ""
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (t: string) => void (copied = t) }, configurable: true })
    const el = await make()
    assert.include($(el, "[part=token-list]").textContent, "Old site")
    const name = $<HTMLInputElement>(el, "#tokenName")
    name.value = "My blog"
    $<HTMLInputElement>(el, "#scope-like").checked = true
    $<HTMLButtonElement>(el, "[part=create-token]").click()
    await waitFor(() => $(el, "[part=token-created]"))
    assert.deepStrictEqual(sent(calls, "POST", "/users/me/embed-tokens")[0]!.body, { name: "My blog", scope: "read_like" })
    assert.strictEqual($<HTMLInputElement>(el, "#token-secret").value, SECRET)
    assert.include($(el, "[part=token-created]").textContent, "shown only this once")
    const snippet = $<HTMLTextAreaElement>(el, "#token-snippet").value
    assert.include(snippet, `token="${SECRET}"`)
    assert.include(snippet, "/widgets/feed.js")
    $<HTMLButtonElement>(el, "[part=copy-token]").click()
    await waitFor(() => copied === SECRET)
    $<HTMLButtonElement>(el, "[part=copy-snippet]").click()
    await waitFor(() => copied === snippet)
    assert.include($(el, "[part=token-list]").textContent, "My blog")
    assert.include($(el, "[part=token-list]").textContent, "Read and like")
    assert.notInclude($(el, "[part=token-list]").textContent, SECRET, "the list never shows a secret")
  })

  it("shows the server's error at the name field, and a missing name before asking", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": empty,
      "GET /users/me/muted": empty,
      "GET /users/me/embed-tokens": { body: { items: [] } },
      "POST /users/me/embed-tokens": {
        status: 422,
        body: { error: { code: "Unprocessable", message: "you already have 20 embed tokens; revoke one you no longer use first", details: { field: "name" } } }
      }
    })
    const el = await make()
    $<HTMLButtonElement>(el, "[part=create-token]").click()
    await waitFor(() => !$(el, "#tokenName-error").hidden)
    assert.include($(el, "#tokenName-error").textContent, "Give the token a name")
    assert.strictEqual(sent(calls, "POST", "/users/me/embed-tokens").length, 0)
    $<HTMLInputElement>(el, "#tokenName").value = "One more"
    $<HTMLButtonElement>(el, "[part=create-token]").click()
    await waitFor(() => $(el, "#tokenName-error").textContent!.includes("20 embed tokens"))
    assert.strictEqual($(el, "#tokenName").getAttribute("aria-invalid"), "true")
    assert.include($(el, "#tokenName-error").textContent, "You already have 20 embed tokens; revoke one you no longer use first.")
  })

  it("revokes only after the confirm step", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": empty,
      "GET /users/me/muted": empty,
      "GET /users/me/embed-tokens": { body: { items: [token("t0", "Old site")] } },
      "DELETE /users/me/embed-tokens/t0": { status: 204 }
    })
    const el = await make()
    $<HTMLButtonElement>(el, "[part=revoke]").click()
    await waitFor(() => $(el, "[part=revoke-confirm]"))
    assert.strictEqual(sent(calls, "DELETE", "/users/me/embed-tokens/t0").length, 0)
    assert.strictEqual(shadow(el).activeElement, $(el, "[part=revoke-confirm]"))
    $<HTMLButtonElement>(el, "[part=revoke-confirm]").click()
    await waitFor(() => $(el, "#embed-heading").parentElement!.textContent!.includes("You have no embed tokens"))
    assert.strictEqual(sent(calls, "DELETE", "/users/me/embed-tokens/t0").length, 1)
  })
})

describe("ap-settings: avatar", () => {
  it("refuses a file that is not a photo before anything is sent", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": empty,
      "GET /users/me/muted": empty,
      "GET /users/me/embed-tokens": { body: { items: [] } }
    })
    const el = await make()
    const input = $<HTMLInputElement>(el, "#avatar-file")
    Object.defineProperty(input, "files", { value: [new File(["hello"], "notes.txt", { type: "text/plain" })] })
    input.dispatchEvent(new Event("change"))
    await waitFor(() => $(el, "#avatar-error").textContent!.includes("not a photo"))
    assert.strictEqual(input.getAttribute("aria-invalid"), "true")
    assert.isFalse(calls.some((c) => c.path === "/users/me/avatar"))
  })

  it("crops square: the image always covers the square, whatever the zoom and pan", () => {
    const wide = placement(400, 200, 100, 1, 0, 0)
    assert.deepStrictEqual(wide, { x: -50, y: 0, w: 200, h: 100 }, "centred, the short side fills the square")
    const panned = placement(400, 200, 100, 1, 10, 10)
    assert.deepStrictEqual([panned.x, panned.y], [0, 0], "a pan never uncovers an edge")
    const zoomed = placement(400, 200, 100, 2, 0, 0)
    assert.deepStrictEqual(zoomed, { x: -150, y: -50, w: 400, h: 200 })
  })
})
