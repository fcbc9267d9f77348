// @vitest-environment happy-dom
/** The inspector inside the app: `/admin`, and the nav link only an admin sees. */
import { afterEach, assert, describe, it } from "vitest"
import "../app/app.ts"
import { parseRoute } from "../app/routes.ts"
import { FakeWebSocket, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import { overview } from "./fixtures.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
  history.replaceState(null, "", "/")
})

const app = async () => {
  const el = document.createElement("ap-app")
  el.client = testClient()
  return mount(el)
}

const quiet = {
  "GET /feed": { body: { items: [], nextCursor: null, hasMore: false } },
  "GET /notifications": { body: { items: [], nextCursor: null, hasMore: false, unreadCount: 0 } },
  "GET /conversations/unread": { body: { unreadCount: 0, conversations: 0, requests: 0 } },
  "GET /stories/feed": { body: { items: [], nextCursor: null, hasMore: false } }
}

describe("/admin in the app", () => {
  it("is a route of its own", () => {
    assert.deepStrictEqual(parseRoute("/admin"), { name: "admin" })
  })

  it("shows an admin the Admin link, and the inspector behind it", async () => {
    fakeFetch({ ...quiet, "GET /auth/session": { body: { user: { ...me("root"), isAdmin: true } } }, "GET /admin/actors": { body: overview() } })
    const el = await app()
    const link = () => shadow(el).querySelector<HTMLAnchorElement>('nav a[href="/admin"]')
    // the Admin link lives in the header's More menu
    await waitFor(() => shadow(el).querySelector<HTMLButtonElement>(".more-button"))
    shadow(el).querySelector<HTMLButtonElement>(".more-button")!.click()
    await waitFor(() => link())
    link()!.click()
    await waitFor(() => shadow(el).querySelector("ap-actor-inspector"))
    assert.strictEqual(location.pathname, "/admin")
    assert.strictEqual(shadow(el).querySelector("main h1")!.textContent, "Actor inspector")
    const inspector = shadow(el).querySelector("ap-actor-inspector")!
    await waitFor(() => inspector.shadowRoot!.querySelectorAll("[part~=cell]").length === 6)
  })

  it("shows no link to anyone else, and 'admins only' at /admin", async () => {
    const calls = fakeFetch({ ...quiet, "GET /auth/session": { body: { user: me("ann") } }, "GET /admin/actors": { status: 403, body: { error: { code: "Forbidden", message: "admins only" } } } })
    history.replaceState(null, "", "/admin")
    const el = await app()
    const inspector = await (async () => {
      await waitFor(() => shadow(el).querySelector("ap-actor-inspector"))
      return shadow(el).querySelector("ap-actor-inspector")!
    })()
    await waitFor(() => inspector.shadowRoot!.querySelector("[part=forbidden]"))
    assert.match(inspector.shadowRoot!.querySelector("[part=forbidden]")!.textContent!, /Admins only/)
    await waitFor(() => calls.filter((c) => c.path.startsWith("/admin/actors")).length >= 1)
    await el.updateComplete
    assert.isNull(shadow(el).querySelector('nav a[href="/admin"]'))
  })
})
