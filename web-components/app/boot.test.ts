// @vitest-environment happy-dom
import { afterEach, assert, describe, it, vi } from "vitest"

/** Runs the inline boot script once with `fetch` answering from `answers`; the paths asked, in order. */
const boot = async (answers: Record<string, unknown>) => {
  const asked: Array<string> = []
  const pending: Array<() => void> = []
  vi.stubGlobal("fetch", (url: string) => {
    const path = url.replace("/api/v1", "")
    asked.push(path)
    return new Promise((resolve) => {
      // answered only when the test lets them: what is asked before any answer is what runs in parallel
      pending.push(() => resolve(new Response(JSON.stringify(answers[path] ?? {}), { status: answers[path] === undefined ? 401 : 200 })))
    })
  })
  vi.resetModules()
  await import("./boot.ts")
  const before = [...asked]
  for (let i = 0; i < 5; i++) {
    for (const answer of pending.splice(0)) answer()
    await new Promise((r) => setTimeout(r, 0))
  }
  return { before, asked }
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.cookie = "ap_signed_in=; Max-Age=0; Path=/"
  delete (window as { __apBoot?: unknown }).__apBoot
})

describe("the boot script", () => {
  it("asks for the first feed page beside the session when the signed-in hint is there", async () => {
    document.cookie = "ap_signed_in=1; Path=/"
    const { before } = await boot({ "/auth/session": { user: { id: "u" } }, "/feed?limit=20": { items: [] } })
    assert.deepStrictEqual(before, ["/auth/session", "/feed?limit=20"])
  })

  it("without the hint, asks for the feed only after the session says someone is signed in", async () => {
    const { before, asked } = await boot({ "/auth/session": { user: { id: "u" } }, "/feed?limit=20": { items: [] } })
    assert.deepStrictEqual(before, ["/auth/session"])
    assert.deepStrictEqual(asked, ["/auth/session", "/feed?limit=20"])
  })

  it("an anonymous visit asks for nothing but the session", async () => {
    const { asked } = await boot({ "/auth/session": { user: null } })
    assert.deepStrictEqual(asked, ["/auth/session"])
  })
})
