// @vitest-environment happy-dom
import { afterEach, assert, describe, it } from "vitest"
import { FakeWebSocket, fakeFetch, me, mount, shadow, testClient, waitFor } from "../shared/testing.ts"
import type { ApActorInspector } from "./actor-inspector.component.ts"
import "./actor-inspector.ts"
import { actorTap, detail, eventTap, overview } from "./fixtures.ts"
import { describeFilter, filterOf, nodeColor } from "./format.ts"
import { TailBuffer } from "./tail-buffer.ts"
import { tailWindow } from "./tail-view.ts"

afterEach(() => {
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" })
})

const make = async (setup: (el: ApActorInspector) => void = () => undefined) => {
  const el = document.createElement("ap-actor-inspector")
  el.client = testClient()
  setup(el)
  return mount(el)
}

const $ = (el: ApActorInspector, selector: string) => shadow(el).querySelector<HTMLElement>(selector)
const $$ = (el: ApActorInspector, selector: string) => Array.from(shadow(el).querySelectorAll<HTMLElement>(selector))
const text = (el: ApActorInspector, selector: string) => $(el, selector)?.textContent?.replace(/\s+/g, " ").trim() ?? ""

/** The inspector on an overview, with its tail's socket open and the observe answered. */
const live = async (setup?: (el: ApActorInspector) => void) => {
  const el = await make(setup)
  await waitFor(() => $$(el, "[part~=cell]").length > 0)
  await waitFor(() => FakeWebSocket.instances.length === 1)
  FakeWebSocket.last.open()
  await waitFor(() => FakeWebSocket.last.sent.length === 1)
  FakeWebSocket.last.frame("observing", { filter: {}, maxPerSecond: 200 })
  await waitFor(() => el.tail.state === "observing")
  return el
}

const tailRows = (el: ApActorInspector) => $$(el, "[part=tail-rows] tbody tr.tap").map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent!.trim()))

describe("inspector helpers", () => {
  it("reads the tail form into a filter, leaving out what is empty and a sample of 1", () => {
    assert.deepStrictEqual(filterOf({ kinds: "timeline, conversation", keys: " ", events: "post.* story.>", sample: "1" }), {
      kinds: ["timeline", "conversation"],
      events: ["post.*", "story.>"]
    })
    assert.deepStrictEqual(filterOf({ kinds: "", keys: "u1", events: "", sample: "0.25" }), { keys: ["u1"], sample: 0.25 })
    // what the server could not decode is caught here (it counts undecodable frames against the socket)
    assert.strictEqual(filterOf({ kinds: "Timeline", keys: "", events: "", sample: "" }), 'Kinds: "Timeline" is not one (lower-case names like timeline).')
    assert.strictEqual(filterOf({ kinds: "", keys: "a/b", events: "", sample: "" }), `Keys: "a/b" is not one (letters, digits, '-' and '_').`)
    assert.strictEqual(filterOf({ kinds: "", keys: "", events: "Post", sample: "" }), 'Events: "Post" is not one (types like post.created, post.* or story.>).')
    assert.match(filterOf({ kinds: "", keys: "", events: "", sample: "2" }) as string, /^Sample:/)
    assert.match(filterOf({ kinds: "", keys: "", events: "", sample: "0" }) as string, /^Sample:/)
    assert.strictEqual(filterOf({ kinds: Array.from({ length: 17 }, (_, i) => `k${i}`).join(","), keys: "", events: "", sample: "" }), "At most 16 kinds.")
    assert.strictEqual(describeFilter({}), "everything")
    assert.strictEqual(describeFilter({ kinds: ["timeline"], sample: 0.1 }), "kinds timeline; 10% sampled")
  })

  it("gives a node the same colour every time, and different nodes different ones", () => {
    assert.strictEqual(nodeColor("node-a"), nodeColor("node-a"))
    assert.notStrictEqual(nodeColor("node-a"), nodeColor("node-b"))
    // names that differ in one character spread round the wheel (FNV alone put them in two hues)
    const hues = Array.from({ length: 8 }, (_, i) => Number(/^hsl\((\d+)/.exec(nodeColor(`node-${i}`))![1]))
    assert.isAtLeast(new Set(hues.map((h) => Math.floor(h / 30))).size, 6, hues.join(", "))
  })

  it("keeps the newest rows, newest first; a pause freezes them and counts what arrives", () => {
    const b = new TailBuffer(3)
    b.push([actorTap("timeline", "a"), actorTap("timeline", "b")])
    assert.deepStrictEqual(b.rows.map((r) => (r.tap as { key: string }).key), ["b", "a"])
    for (let i = 0; i < 20; i++) b.push([actorTap("timeline", `k${i}`)])
    assert.deepStrictEqual(b.rows.map((r) => (r.tap as { key: string }).key), ["k19", "k18", "k17"])
    assert.strictEqual(b.received, 22)
    b.pause()
    b.push([actorTap("timeline", "x"), actorTap("timeline", "y")])
    assert.deepStrictEqual(b.rows.map((r) => (r.tap as { key: string }).key), ["k19", "k18", "k17"], "frozen while paused")
    assert.strictEqual(b.whilePaused, 2)
    b.resume()
    assert.deepStrictEqual(b.rows.map((r) => (r.tap as { key: string }).key), ["y", "x", "k19"])
    assert.strictEqual(b.whilePaused, 0)
    b.clear()
    assert.deepStrictEqual([b.rows.length, b.received], [0, 0])
  })
  it("renders only the tail rows in and near the view, spacers standing for the rest", () => {
    assert.deepStrictEqual(tailWindow({ top: 0, viewport: 260, rowPx: 26 }, 500), { start: 0, end: 20, before: 0, after: 480 * 26 })
    assert.deepStrictEqual(tailWindow({ top: 2600, viewport: 260, rowPx: 26 }, 500), { start: 90, end: 120, before: 90 * 26, after: 380 * 26 })
    assert.deepStrictEqual(tailWindow({ top: 0, viewport: 260, rowPx: 26 }, 5), { start: 0, end: 5, before: 0, after: 0 })
    assert.deepStrictEqual(tailWindow({ top: 99_999, viewport: 260, rowPx: 26 }, 30), { start: 30, end: 30, before: 30 * 26, after: 0 })
  })
})

describe("ap-actor-inspector", () => {
  it("draws the partition map by owner with a legend, the nodes and those not answering, kinds and streams", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me("root") } }, "GET /admin/actors": { body: overview() } })
    const el = await make()
    await waitFor(() => $$(el, "[part~=cell]").length === 6)
    const cells = $$(el, "[part~=cell]")
    assert.deepStrictEqual(cells.map((c) => c.dataset.owner ?? null), ["node-a", "node-a", "node-b", "node-a", "node-b", null])
    assert.include(cells[0]!.getAttribute("style")!, nodeColor("node-a"))
    assert.include(cells[2]!.getAttribute("style")!, nodeColor("node-b"))
    assert.isTrue(cells[5]!.classList.contains("unowned"))
    assert.strictEqual(
      cells[1]!.title,
      "Partition 1: node-a, epoch 2 (owned), lease ends in 4.0 s, 1 actors, 1 pending, 0 ack pending, 0 redelivered"
    )
    assert.strictEqual(cells[1]!.getAttribute("aria-label"), cells[1]!.title)
    assert.isTrue(cells[1]!.classList.contains("busy"), "a backlog is marked")
    assert.deepStrictEqual($$(el, "[part=legend] li").map((li) => li.textContent!.replace(/\s+/g, " ").trim()), ["node-a 3", "node-b 2", "unowned 1"])
    // one tab stop, arrow keys move within the map and describe the partition in words
    assert.deepStrictEqual(cells.map((c) => c.tabIndex), [0, -1, -1, -1, -1, -1])
    cells[0]!.focus()
    cells[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }))
    await el.updateComplete
    assert.strictEqual(shadow(el).activeElement, $$(el, "[part~=cell]")[1])
    assert.strictEqual($$(el, "[part~=cell]")[1]!.tabIndex, 0)
    assert.match(text(el, "[part=partition-detail]"), /^Partition 1: node-a/)

    const nodes = $$(el, "[part=nodes] tbody tr").map((tr) => Array.from(tr.children).map((c) => c.textContent!.replace(/\s+/g, " ").trim()))
    assert.deepStrictEqual(nodes, [
      ["node-a (answering)", "api, actors", "0.1.0", "800 ms ago", "4 ms", "3", "10", "2", "5"],
      ["node-b", "api, actors", "0.1.0", "800 ms ago", "4 ms", "2", "10", "2", "5"]
    ])
    assert.include(text(el, "[part=missing]"), "Not answering: node-c")
    assert.deepStrictEqual($$(el, "[part=kinds] tbody th").map((th) => th.textContent), ["timeline", "conversation"])
    assert.include(text(el, "[part=kinds] tbody tr"), (9000).toLocaleString())
    assert.include(text(el, "[part=streams]"), "mailbox-1")
  })

  it("lists the hot actors by the figure chosen; a row opens the actor's page, Back returns to the row", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me("root") } },
      "GET /admin/actors/timeline/u1": { body: detail("timeline", "u1") },
      "GET /admin/actors": { body: overview() }
    })
    const el = await make()
    await waitFor(() => $$(el, "[part=hot-row]").length === 2)
    const keys = () => $$(el, "[part=open]").map((b) => b.textContent)
    assert.deepStrictEqual(keys(), ["u1", "c1"])
    assert.deepStrictEqual($$(el, "[part=hot] thead th").map((th) => th.textContent), ["Kind", "Key", "Node", "Partition", "Mailbox", "Handled", "Restarts", "Last activity"])
    assert.include(text(el, "[part=hot-row]"), "2.0 s ago")
    const select = $(el, "[part=hot] select") as HTMLSelectElement
    select.value = "restarts"
    select.dispatchEvent(new Event("change"))
    await el.updateComplete
    assert.deepStrictEqual(keys(), ["u3"])
    assert.include(text(el, "[part=hot-row]"), "parked")
    select.value = "mailboxDepth"
    select.dispatchEvent(new Event("change"))
    await el.updateComplete

    // a click anywhere on the row opens it
    $$(el, "[part=hot-row]")[0]!.querySelector("td")!.click()
    await waitFor(() => $(el, "[part=state]"))
    assert.isTrue(calls.some((c) => c.path === "/admin/actors/timeline/u1"))
    assert.strictEqual(shadow(el).activeElement, $(el, "#detail-h"))
    assert.strictEqual(text(el, "#detail-h"), "timeline u1")
    assert.deepStrictEqual(JSON.parse($(el, "[part=state]")!.textContent!), { entries: 12, newest: "p9", cursor: { seq: 7 } })
    assert.include($(el, "[part=state]")!.textContent!, '\n  "entries": 12', "indented")
    const figures = (selector: string) => $$(el, `${selector} > div`).map((d) => `${d.querySelector("dt")!.textContent}: ${d.querySelector("dd")!.textContent}`)
    assert.includeMembers(figures("[part=detail] dl"), ["Owner: node-a", "Partition: 1", "Epoch: 3", "Alive: yes", "Mailbox depth: 4", "Parked: no"])
    assert.includeMembers(figures("[part=consumer]"), ["Name: mailbox-1", "Pending: 3", "Ack pending: 1", "Redelivered: 0"])
    const recent = $$(el, "[part=recent] tbody tr").map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent!.trim()))
    assert.deepStrictEqual(recent.map((r) => [r[0], r[1], r[2], r[3], r[4], r[6]]), [["7", "Push", "failed", "30 ms", "2", "timeout"], ["6", "Push", "ok", "2 ms", "1", ""]], "newest first")
    assert.isNull($(el, "[part=partitions]"), "the overview makes way")

    ;($(el, "[part=back]") as HTMLButtonElement).click()
    await waitFor(() => $(el, "[part=partitions]"))
    await el.updateComplete
    assert.strictEqual(shadow(el).activeElement, $(el, '[data-actor="timeline/u1"]'))
  })

  it("polls the overview while the page is visible, and the open actor instead of it", async () => {
    let n = 0
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me("root") } },
      "GET /admin/actors/timeline/u1": { body: detail("timeline", "u1") },
      "GET /admin/actors": () => ({ body: overview({ kinds: [{ kind: "timeline", live: ++n, mailboxDepth: 0, handled: 0, restarts: 0 }] }) })
    })
    const el = await make((e) => (e.interval = 20))
    await waitFor(() => n >= 3)
    assert.deepStrictEqual(calls.filter((c) => c.path.startsWith("/admin/actors")).map((c) => c.path).slice(0, 2), ["/admin/actors?limit=20", "/admin/actors?limit=20"])
    await waitFor(() => text(el, "[part=kinds] tbody td") === String(n))
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" })
    document.dispatchEvent(new Event("visibilitychange"))
    await new Promise((r) => setTimeout(r, 30))
    const hidden = n
    await new Promise((r) => setTimeout(r, 100))
    assert.strictEqual(n, hidden, "no polling while hidden")
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" })
    document.dispatchEvent(new Event("visibilitychange"))
    await waitFor(() => n > hidden)

    el.open({ kind: "timeline", key: "u1" })
    await waitFor(() => calls.filter((c) => c.path === "/admin/actors/timeline/u1").length >= 3)
    const overviews = n
    await new Promise((r) => setTimeout(r, 60))
    assert.isAtMost(n, overviews + 1, "the overview rests while an actor is open")
  })

  it("says 'admins only' on a 403, and stops asking", async () => {
    const calls = fakeFetch({
      "GET /auth/session": { body: { user: me("mallory") } },
      "GET /admin/actors": { status: 403, body: { error: { code: "Forbidden", message: "admins only" } } }
    })
    const el = await make((e) => (e.interval = 10))
    await waitFor(() => $(el, "[part=forbidden]"))
    assert.match(text(el, "[part=forbidden]"), /Admins only/)
    assert.strictEqual($(el, "[part=forbidden]")!.getAttribute("role"), "alert")
    await new Promise((r) => setTimeout(r, 60))
    assert.strictEqual(calls.filter((c) => c.path.startsWith("/admin")).length, 1)
    assert.strictEqual(FakeWebSocket.instances.length, 0, "no tail for someone who may not look")
  })

  it("shows a failure and the last answer, and goes on polling", async () => {
    let fail = false
    fakeFetch({
      "GET /auth/session": { body: { user: me("root") } },
      "GET /admin/actors": () => (fail ? { status: 503, body: { error: { code: "Unavailable", message: "The cluster did not answer." } } } : { body: overview() })
    })
    const errors: Array<string> = []
    document.addEventListener("ap-error", (e) => errors.push(e.detail.message))
    const el = await make((e) => (e.interval = 10))
    await waitFor(() => $$(el, "[part~=cell]").length === 6)
    fail = true
    await waitFor(() => $(el, "[part=error]"))
    assert.strictEqual($(el, "[part=error]")!.getAttribute("role"), "alert")
    assert.include(text(el, "[part=error]"), "The cluster did not answer. Showing the last answer.")
    assert.strictEqual($$(el, "[part~=cell]").length, 6)
    await new Promise((r) => setTimeout(r, 50))
    assert.strictEqual(errors.length, 1, "one ap-error per distinct failure, not per poll")
    fail = false
    await waitFor(() => !$(el, "[part=error]"))
  })

  it("tails live: rows appear batched per frame, newest first, bounded; pause counts, resume shows, clear empties", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me("root") } }, "GET /admin/actors": { body: overview() } })
    const el = await live((e) => (e.tailRows = 5))
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "observe", payload: {} }])
    assert.include(text(el, "[part=tail-status]"), "Tailing everything, at most 200 a second.")
    const ws = FakeWebSocket.last
    ws.frame("observed", actorTap("timeline", "u1", { tag: "Push", durationMs: 3, keys: ["u1", "u2", "u3"] }))
    ws.frame("observed", eventTap("post.created", "p1"))
    await waitFor(() => tailRows(el).length === 2)
    assert.deepStrictEqual(tailRows(el)[0]!.slice(1), ["event", "p1", "post.created", "", "", "node-b", ""])
    assert.deepStrictEqual(tailRows(el)[1]!.slice(1), ["timeline", "u1 +2", "Push", "ok", "3.0", "node-a", "1"])
    // a burst is one render, and only the newest tail-rows are kept
    const before = el.updateComplete
    for (let i = 0; i < 50; i++) ws.frame("observed", actorTap("conversation", `c${i}`))
    await before
    await waitFor(() => tailRows(el)[0]?.[2] === "c49")
    assert.strictEqual(tailRows(el).length, 5)
    // the rows are no live region (that would read every one); the counts are, once a second
    assert.isNull($(el, "[part=tail-rows]")!.closest("[aria-live],[role=log],[role=status]"))
    assert.strictEqual($(el, "[part=tail-status]")!.getAttribute("role"), "status")
    ws.frame("observe_stats", { perKind: { conversation: 50, timeline: 1 }, perEvent: { "post.created": 1 }, sent: 52, dropped: 7 })
    await waitFor(() => text(el, "[part=tail-status]").includes("7 dropped"))
    assert.include(text(el, "[part=tail-status]"), "52 received.")
    assert.deepStrictEqual($$(el, "[part=rates] li").map((li) => li.textContent!.replace(/\s+/g, " ").trim()), ["conversation 50/s", "timeline 1/s", "post.created 1/s", "sent 52/s", "dropped 7/s"])

    const pause = $(el, "[part=pause]") as HTMLButtonElement
    pause.click()
    await el.updateComplete
    assert.strictEqual(pause.textContent!.trim(), "Resume")
    for (let i = 0; i < 3; i++) ws.frame("observed", actorTap("timeline", `p${i}`))
    await waitFor(() => text(el, ".paused") === "3 new while paused")
    assert.strictEqual(tailRows(el)[0]![2], "c49", "frozen while paused")
    ws.frame("observe_stats", { perKind: { timeline: 3 }, perEvent: {}, sent: 3, dropped: 0 })
    await waitFor(() => text(el, "[part=tail-status]").includes("Paused: 3 arrived while paused."))
    pause.click()
    await el.updateComplete
    assert.strictEqual(tailRows(el)[0]![2], "p2")
    ;($(el, "[part=clear]") as HTMLButtonElement).click()
    await el.updateComplete
    assert.strictEqual(tailRows(el).length, 0)
  })

  it("keeps 500 tail rows but puts only those near the view in the DOM, numbered for assistive technology", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me("root") } }, "GET /admin/actors": { body: overview() } })
    const el = await live()
    for (let i = 0; i < 200; i++) FakeWebSocket.last.frame("observed", actorTap("timeline", `k${i}`))
    await waitFor(() => tailRows(el)[0]?.[2] === "k199")
    const rendered = $$(el, "[part=tail-rows] tbody tr.tap")
    assert.isBelow(rendered.length, 60)
    assert.strictEqual($(el, "[part=tail-rows]")!.getAttribute("aria-rowcount"), "201")
    assert.deepStrictEqual(rendered.slice(0, 2).map((r) => r.getAttribute("aria-rowindex")), ["2", "3"])
    const pad = $$(el, "[part=tail-rows] tbody tr.pad")
    assert.strictEqual(pad.length, 1)
    assert.strictEqual(pad[0]!.getAttribute("aria-hidden"), "true")
    assert.strictEqual(el.tail.buffer.rows.length, 200)
  })

  it("applies the filter form, tails one actor from its page, and observes again after a reconnect", async () => {
    fakeFetch({
      "GET /auth/session": { body: { user: me("root") } },
      "GET /admin/actors/conversation/c1": { body: detail("conversation", "c1") },
      "GET /admin/actors": { body: overview() }
    })
    const el = await live()
    const ws = FakeWebSocket.last
    const form = $(el, "form.filter") as HTMLFormElement
    ;(form.elements.namedItem("events") as HTMLInputElement).value = "post.*"
    ;(form.elements.namedItem("sample") as HTMLInputElement).value = "0.5"
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => ws.sent.length === 2)
    assert.deepStrictEqual(ws.sent[1], { type: "observe", payload: { events: ["post.*"], sample: 0.5 } }, "a new observe replaces the filter: no unobserve first")

    el.open({ kind: "conversation", key: "c1" })
    await waitFor(() => $(el, "[part=tail-actor]"))
    ;($(el, "[part=tail-actor]") as HTMLButtonElement).click()
    await waitFor(() => ws.sent.length === 3)
    assert.deepStrictEqual(ws.sent[2], { type: "observe", payload: { kinds: ["conversation"], keys: ["c1"] } })
    await el.updateComplete
    assert.strictEqual((form.elements.namedItem("kinds") as HTMLInputElement).value, "conversation")
    assert.strictEqual((form.elements.namedItem("keys") as HTMLInputElement).value, "c1")
    assert.strictEqual((form.elements.namedItem("events") as HTMLInputElement).value, "")
    assert.strictEqual(shadow(el).activeElement, $(el, "#tail-h"))

    ws.drop()
    await waitFor(() => el.tail.state === "connecting")
    await waitFor(() => FakeWebSocket.instances.length === 2, 5000)
    FakeWebSocket.last.open()
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "observe", payload: { kinds: ["conversation"], keys: ["c1"] } }], "the server forgets the filter with the socket")
  })

  it("shows a refused tail: 'admins only' for Forbidden, the reason for a filter the server would not take", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me("root") } }, "GET /admin/actors": { body: overview() } })
    const el = await live()
    const form = $(el, "form.filter") as HTMLFormElement
    ;(form.elements.namedItem("kinds") as HTMLInputElement).value = "Bad!"
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => text(el, "#filter-error").startsWith('Kinds: "Bad!" is not one'))
    assert.strictEqual(FakeWebSocket.last.sent.length, 1, "a filter the server cannot take is not sent")
    ;(form.elements.namedItem("kinds") as HTMLInputElement).value = "nosuchkind"
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => FakeWebSocket.last.sent.length === 2)
    assert.strictEqual(text(el, "#filter-error"), "")
    FakeWebSocket.last.frame("error", { code: "BadRequest", message: "kinds: not a kind" })
    await waitFor(() => el.tail.state === "refused")
    assert.include(text(el, "[part=tail-status]"), "The server refused the filter: kinds: not a kind")
    assert.deepStrictEqual(FakeWebSocket.last.sent[2], { type: "unobserve", payload: {} }, "nothing stays tailed after a refusal")
    // alone on the page, the socket closed with the tail; trying again opens it again
    form.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => FakeWebSocket.instances.length === 2)
    FakeWebSocket.last.open()
    assert.deepStrictEqual(FakeWebSocket.last.sent, [{ type: "observe", payload: { kinds: ["nosuchkind"] } }])
    FakeWebSocket.last.frame("error", { code: "Forbidden", message: "admins only" })
    await waitFor(() => $(el, "[part=forbidden]"))
  })
})
