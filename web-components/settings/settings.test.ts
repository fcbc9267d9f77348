// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { card, type Call, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import { ApiError } from "../sdk/rest.ts"
import { UNDO_MS } from "./blocks.ts"
import { fieldError } from "./errors.ts"
import "./settings.ts"

afterEach(() => {
  document.body.innerHTML = ""
})

const emptyBlocks = { body: { items: [], nextCursor: null, hasMore: false } }

const make = async () => {
  const el = document.createElement("ap-settings")
  el.client = testClient()
  await mount(el)
  await waitFor(() => shadow(el).querySelector("#displayName"))
  await waitFor(() => !shadow(el).textContent!.includes("Loading"))
  return el
}

const $ = <E extends Element = HTMLInputElement>(el: Element, selector: string) => shadow(el).querySelector<E>(selector)!
const type = (input: HTMLInputElement | HTMLTextAreaElement, value: string) => {
  input.value = value
  input.dispatchEvent(new Event("input", { bubbles: true }))
}
const submit = (el: Element, button: string) => $<HTMLButtonElement>(el, `[part=${button}]`).click()
const errorOf = (el: Element, id: string) => {
  const input = $(el, `#${id}`)
  const described = (input.getAttribute("aria-describedby") ?? "").split(" ")
  return described.includes(`${id}-error`) ? $(el, `#${id}-error`).textContent!.trim() : ""
}
const sent = (calls: ReadonlyArray<Call>, method: string, path: string) => calls.filter((c) => c.method === method && c.path === path)

describe("ap-settings", () => {
  it("saves the display name and bio, and says Saved", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": emptyBlocks,
      "PATCH /users/me": (call) => ({ body: { ...me(), ...(call.body as object) } })
    })
    const el = await make()
    type($(el, "#displayName"), "  Me Myself ")
    type($<HTMLTextAreaElement>(el, "#bio"), "hello there")
    submit(el, "save")
    await waitFor(() => $(el, ".status").textContent === "Saved")
    assert.deepStrictEqual(sent(calls, "PATCH", "/users/me")[0]!.body, { displayName: "Me Myself", bio: "hello there" })
    assert.strictEqual(el.client.me?.displayName, "Me Myself")
  })

  it("shows a profile error at its field (details.field), tied with aria-describedby and aria-invalid", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": emptyBlocks,
      "PATCH /users/me": { status: 400, body: { error: { code: "BadRequest", message: "a bio is at most 150 characters", details: { field: "bio" } } } }
    })
    const el = await make()
    submit(el, "save")
    await waitFor(() => errorOf(el, "bio") !== "")
    assert.strictEqual(errorOf(el, "bio"), "A bio is at most 150 characters.")
    assert.strictEqual($(el, "#bio").getAttribute("aria-invalid"), "true")
    assert.strictEqual($(el, "#displayName").getAttribute("aria-invalid"), "false")
    assert.strictEqual(errorOf(el, "displayName"), "")
    assert.strictEqual(shadow(el).activeElement, $(el, "#bio"))
  })

  it("turns the private switch on through PATCH and puts it back when that fails", async () => {
    let fail = false
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": emptyBlocks,
      "PATCH /users/me": (call) => (fail ? "network-error" : { body: { ...me(), ...(call.body as object) } })
    })
    const el = await make()
    const toggle = $(el, "[part=private-switch]")
    assert.strictEqual(toggle.getAttribute("role"), "switch")
    assert.include(toggle.getAttribute("aria-describedby")!, "isPrivate-hint")
    assert.include($(el, "#isPrivate-hint").textContent!, "only people you approve")
    toggle.click()
    await waitFor(() => el.client.me?.isPrivate === true)
    await el.updateComplete
    assert.deepStrictEqual(sent(calls, "PATCH", "/users/me")[0]!.body, { isPrivate: true })
    assert.isTrue(toggle.checked)
    fail = true
    toggle.click()
    await waitFor(() => $(el, "#isPrivate-error").textContent!.includes("Could not reach Aperture"))
    assert.isTrue(toggle.checked, "back to what the server has")
    assert.strictEqual(toggle.getAttribute("aria-invalid"), "true")
  })

  it("checks the new password's length before asking, then shows a wrong current password at that field", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": emptyBlocks,
      "POST /auth/password": { status: 422, body: { error: { code: "Unprocessable", message: "your current password is not right", details: { field: "currentPassword" } } } }
    })
    const el = await make()
    type($(el, "#currentPassword"), "old one")
    type($(el, "#newPassword"), "short")
    submit(el, "change-password")
    await waitFor(() => errorOf(el, "newPassword") !== "")
    assert.strictEqual(errorOf(el, "newPassword"), "Use at least 8 characters (this one has 5).")
    assert.lengthOf(sent(calls, "POST", "/auth/password"), 0, "not sent")
    type($(el, "#newPassword"), "a much better one")
    submit(el, "change-password")
    await waitFor(() => errorOf(el, "currentPassword") !== "")
    assert.include(errorOf(el, "currentPassword"), "Your current password is not right")
    assert.strictEqual($(el, "#currentPassword").getAttribute("aria-invalid"), "true")
    assert.strictEqual(errorOf(el, "newPassword"), "")
    assert.deepStrictEqual(sent(calls, "POST", "/auth/password")[0]!.body, { currentPassword: "old one", newPassword: "a much better one" })
  })

  it("reads a field-less 400 of the password change (the server's 8–128 check) as the new password's error", () => {
    assert.deepStrictEqual(fieldError(new ApiError(400, "BadRequest", "Expected a password is 8–128 characters, actual \"x\""), "newPassword"), {
      field: "newPassword",
      message: "A password is 8–128 characters."
    })
    assert.deepStrictEqual(fieldError(new ApiError(429, "TooManyRequests", "slow down")), { field: undefined, message: "Too many requests. Wait a moment and try again." })
  })

  it("shows a guessable new password at its field, and after success how many sessions ended", async () => {
    let answer: { status?: number; body: unknown } = {
      status: 422,
      body: { error: { code: "Unprocessable", message: "that password is too easy to guess", details: { field: "newPassword" } } }
    }
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": emptyBlocks,
      "POST /auth/password": () => answer
    })
    const el = await make()
    type($(el, "#currentPassword"), "old password")
    type($(el, "#newPassword"), "password123")
    submit(el, "change-password")
    await waitFor(() => errorOf(el, "newPassword").includes("too easy to guess"))
    answer = { body: { endedSessions: 2 } }
    type($(el, "#newPassword"), "violet tapir orbit")
    submit(el, "change-password")
    await waitFor(() => shadow(el).textContent!.includes("Password changed; 2 other sessions were signed out."))
    assert.strictEqual(errorOf(el, "newPassword"), "")
    assert.strictEqual($(el, "#currentPassword").value, "", "the form is cleared")
  })

  it("signs out of the other sessions only after the confirm step", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": emptyBlocks,
      "POST /auth/logout-others": { body: { endedSessions: 1 } }
    })
    const el = await make()
    submit(el, "logout-others")
    await waitFor(() => $(el, "[data-confirm]"))
    assert.lengthOf(sent(calls, "POST", "/auth/logout-others"), 0)
    $<HTMLButtonElement>(el, "[data-confirm]").click()
    await waitFor(() => shadow(el).textContent!.includes("Signed out of 1 other session."))
    assert.lengthOf(sent(calls, "POST", "/auth/logout-others"), 1)
  })

  it("unblocks a row at once and offers Undo, which blocks again", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": { body: { items: [card("troll"), card("spam")], nextCursor: null, hasMore: false } },
      "DELETE /users/troll/block": { status: 204 },
      "POST /users/troll/block": { status: 204 }
    })
    const el = await make()
    await waitFor(() => shadow(el).querySelectorAll("[part=unblock]").length === 2)
    const events: Array<string> = []
    el.addEventListener("ap-follow", (e) => events.push(`${e.detail.username}:${e.detail.status}`))
    $<HTMLButtonElement>(el, "[aria-label='Unblock troll']").click()
    await waitFor(() => $(el, "[part=undo]"))
    assert.lengthOf(sent(calls, "DELETE", "/users/troll/block"), 1)
    assert.include(shadow(el).textContent!, "Unblocked troll.")
    assert.strictEqual(shadow(el).activeElement, $(el, "[part=undo]"))
    $<HTMLButtonElement>(el, "[part=undo]").click()
    await waitFor(() => shadow(el).querySelectorAll("[part=unblock]").length === 2)
    assert.lengthOf(sent(calls, "POST", "/users/troll/block"), 1)
    assert.deepStrictEqual(events, ["troll:none", "troll:blocked"])
  })

  it("pages through the blocked accounts with Show more", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks?cursor=c1": { body: { items: [card("second")], nextCursor: null, hasMore: false } },
      "GET /users/me/blocks": { body: { items: [card("first")], nextCursor: "c1", hasMore: true } }
    })
    const el = await make()
    await waitFor(() => $(el, "[part=unblock]"))
    const more = Array.from(shadow(el).querySelectorAll("button")).find((b) => b.textContent === "Show more")!
    more.click()
    await waitFor(() => shadow(el).querySelectorAll("[part=unblock]").length === 2)
    assert.isTrue(calls.some((c) => c.path === "/users/me/blocks?cursor=c1&limit=20"))
    assert.isUndefined(Array.from(shadow(el).querySelectorAll("button")).find((b) => b.textContent === "Show more"))
  })

  it("drops an unblocked row once Undo's time is up", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me() } },
      "GET /users/me/blocks": { body: { items: [card("troll")], nextCursor: null, hasMore: false } },
      "DELETE /users/troll/block": { status: 204 }
    })
    const el = await make()
    await waitFor(() => $(el, "[part=unblock]"))
    $<HTMLButtonElement>(el, "[part=unblock]").click()
    await waitFor(() => $(el, "[part=undo]"))
    await waitFor(() => shadow(el).textContent!.includes("You haven't blocked anyone."), UNDO_MS + 2000)
  }, UNDO_MS + 5000)
})
