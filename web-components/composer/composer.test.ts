// @vitest-environment happy-dom
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import { FakeWebSocket, fakeFetch, me, mount, post, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./composer.ts"

/** An XMLHttpRequest the test answers, with upload progress. */
class FakeXhr {
  static last: FakeXhr | undefined
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  status = 0
  responseText = ""
  withCredentials = false
  method = ""
  url = ""
  body: FormData | undefined
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader() {}
  send(body: FormData) {
    this.body = body
    FakeXhr.last = this
  }
  abort() {}
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true })
  }
  answer(status: number, body: unknown) {
    this.status = status
    this.responseText = JSON.stringify(body)
    this.onload?.()
  }
}

const realXhr = globalThis.XMLHttpRequest
beforeEach(() => {
  globalThis.XMLHttpRequest = FakeXhr as never
  URL.createObjectURL = () => "blob:preview"
  URL.revokeObjectURL = () => undefined
})
afterEach(() => {
  globalThis.XMLHttpRequest = realXhr
  document.body.innerHTML = ""
  FakeWebSocket.instances = []
  FakeXhr.last = undefined
})

const jpeg = (size = 1000) => new File([new Uint8Array(size)], "photo.jpg", { type: "image/jpeg" })

const make = async () => {
  const el = document.createElement("ap-composer")
  el.client = testClient()
  return mount(el)
}

describe("ap-composer", () => {
  it("previews the chosen file at once and refuses what the server would refuse, readably", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const el = await make()
    el.choose(new File(["x"], "notes.txt", { type: "text/plain" }))
    await el.updateComplete
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /not supported/)
    el.choose(jpeg(11 * 1024 * 1024))
    await el.updateComplete
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /11\.0 MB; the limit is 10 MB/)
    el.choose(jpeg())
    await el.updateComplete
    assert.strictEqual(shadow(el).querySelector(".drop img")!.getAttribute("src"), "blob:preview")
    assert.strictEqual(shadow(el).querySelector("[role=alert]")!.textContent, "")
  })

  it("uploads with real progress, then processes until post_ready, then shows the post", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } }, "GET /posts/p9": { body: post("p9") } })
    const el = await make()
    await waitFor(() => FakeWebSocket.instances.length === 1)
    FakeWebSocket.last.open()
    const progress: Array<number> = []
    el.addEventListener("ap-upload-progress", (e) => progress.push(e.detail.loaded))
    const published: Array<string> = []
    el.addEventListener("ap-post-published", (e) => published.push(e.detail.post.id))
    el.choose(jpeg(2000))
    await el.updateComplete
    shadow(el).querySelector<HTMLTextAreaElement>("textarea")!.value = "sunset"
    shadow(el).querySelector<HTMLInputElement>("input[name=altText]")!.value = "an orange sky"
    shadow(el).querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
    await el.updateComplete
    const xhr = FakeXhr.last!
    assert.strictEqual(xhr.method, "POST")
    assert.strictEqual(xhr.url, "/api/v1/posts")
    assert.strictEqual(xhr.body!.get("caption"), "sunset")
    assert.strictEqual(xhr.body!.get("altText"), "an orange sky")
    xhr.progress(500, 2000)
    await el.updateComplete
    assert.strictEqual(shadow(el).querySelector("progress")!.value, 25)
    assert.include(shadow(el).querySelector("[role=status]")!.textContent!, "Uploading… 25%")
    xhr.progress(2000, 2000)
    xhr.answer(202, { postId: "p9", status: "processing" })
    await waitFor(() => el.phase === "processing")
    await el.updateComplete
    assert.include(shadow(el).querySelector("[role=status]")!.textContent!, "Processing")
    assert.deepStrictEqual(progress, [500, 2000])
    FakeWebSocket.last.frame("post_ready", { postId: "p9", status: "published", variants: {} }, 3)
    await waitFor(() => el.phase === "published")
    await el.updateComplete
    assert.deepStrictEqual(published, ["p9"])
    assert.strictEqual(shadow(el).querySelector("ap-post")!.post!.id, "p9")
  })

  it("turns the server's 413 and 415 into sentences", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const el = await make()
    for (const [status, pattern] of [[413, /too large/], [415, /not supported/]] as const) {
      el.reset()
      el.choose(jpeg())
      await el.updateComplete
      shadow(el).querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
      FakeXhr.last!.answer(status, { error: { code: "X", message: "raw" } })
      await waitFor(() => el.phase === "failed")
      await el.updateComplete
      assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, pattern)
    }
  })
})
