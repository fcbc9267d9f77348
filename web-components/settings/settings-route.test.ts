// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { parseRoute } from "../app/routes.ts"
import "../app/app.ts"
import { FakeWebSocket, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
  history.replaceState(null, "", "/")
})

const make = async () => {
  const el = document.createElement("ap-app")
  el.client = testClient()
  await mount(el)
  await waitFor(() => el.ready)
  await el.updateComplete
  return el
}

describe("the /settings page in the app", () => {
  it("is a route, linked from the header for signed-in people, and shows ap-settings", async () => {
    assert.deepStrictEqual(parseRoute("/settings"), { name: "settings" })
    fakeFetch({
      "GET /auth/session": { body: { user: me("ann") } },
      "GET /feed": { body: { items: [], nextCursor: null, hasMore: false } },
      "GET /notifications": { body: { items: [], nextCursor: null, hasMore: false, unreadCount: 0 } },
      "GET /users/me/blocks": { body: { items: [], nextCursor: null, hasMore: false } }
    })
    const el = await make()
    // Settings lives in the header's More menu
    const settingsLink = async () => {
      shadow(el).querySelector<HTMLButtonElement>(".more-button")!.click()
      await el.updateComplete
      return Array.from(shadow(el).querySelectorAll<HTMLAnchorElement>("nav a")).find((a) => a.textContent === "Settings")
    }
    const link = await settingsLink()
    assert.isDefined(link)
    link!.click()
    await waitFor(() => shadow(el).querySelector("ap-settings"))
    assert.strictEqual(location.pathname, "/settings")
    assert.strictEqual(shadow(el).querySelector("main h1")!.textContent, "Settings")
    assert.strictEqual((await settingsLink())!.getAttribute("aria-current"), "page")
  })

  it("asks anonymous visitors to log in, with no Settings link", async () => {
    history.replaceState(null, "", "/settings")
    fakeFetch({ "GET /auth/session": { body: { user: null } } })
    const el = await make()
    assert.isNull(shadow(el).querySelector("ap-settings"))
    assert.include(shadow(el).querySelector("main h1")!.textContent!, "Log in")
    assert.isFalse(Array.from(shadow(el).querySelectorAll("nav a")).some((a) => a.textContent === "Settings"))
  })
})
