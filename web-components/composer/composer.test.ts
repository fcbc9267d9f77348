// @vitest-environment happy-dom
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import { FakeWebSocket, fakeFetch, me, mount, post, shadow, testClient, waitFor } from "../shared/testing.ts"
import "./composer.ts"
import { ApComposer } from "./composer.component.ts"

// happy-dom decodes no images: every photo is 1200×1000 (within the allowed frames, so sent whole)
ApComposer.measure = async () => ({ width: 1200, height: 1000 })

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

/** A file that starts as a JPEG does (the composer reads the first bytes, not the name or type). */
const jpeg = (size = 1000, name = "photo.jpg") => {
  const bytes = new Uint8Array(size)
  bytes.set([0xff, 0xd8, 0xff, 0xe0])
  return new File([bytes], name, { type: "image/jpeg" })
}

const make = async () => {
  const el = document.createElement("ap-composer")
  el.client = testClient()
  return mount(el)
}

describe("ap-composer", () => {
  it("previews the chosen file at once and refuses what the server would refuse, readably", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const el = await make()
    await el.choose(new File(["x"], "notes.txt", { type: "text/plain" }))
    await el.updateComplete
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /not a photo this app can post/)
    // a text file renamed and typed as a JPEG is refused by its bytes, before anything is sent
    await el.choose(new File(["hello, not a photo"], "renamed.jpg", { type: "image/jpeg" }))
    await el.updateComplete
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /“renamed\.jpg” is not a photo/)
    assert.isUndefined(FakeXhr.last)
    await el.choose(jpeg(11 * 1024 * 1024))
    await el.updateComplete
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /11\.0 MB; the limit is 10 MB/)
    await el.choose(jpeg())
    await el.updateComplete
    assert.strictEqual(shadow(el).querySelector(".frame img")!.getAttribute("src"), "blob:preview")
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
    await el.choose(jpeg(2000))
    await el.updateComplete
    const type = (sel: string, value: string) => {
      const input = shadow(el).querySelector<HTMLInputElement>(sel)!
      input.value = value
      input.dispatchEvent(new Event("input"))
    }
    type("textarea", "sunset")
    type("input[name=altText]", "an orange sky")
    await el.updateComplete
    shadow(el).querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => FakeXhr.last !== undefined)
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
    // published: the form is clean for the next post
    assert.strictEqual(el.photos.length, 0)
    assert.strictEqual(shadow(el).querySelector<HTMLTextAreaElement>("textarea")!.value, "")
    assert.isNull(shadow(el).querySelector(".frame"))
  })

  it("posts a carousel in the order chosen, each photo after its own alt text; at most 10", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const el = await make()
    await el.add([jpeg(100, "a.jpg"), jpeg(200, "b.jpg"), jpeg(300, "c.jpg")])
    await el.updateComplete
    assert.strictEqual(el.photos.length, 3)
    assert.match(shadow(el).querySelector("label:has(input[name=altText])")!.textContent!, /Alt text for photo 1/, "the first photo added is the one being framed")
    // c moves before b; b gets alt text
    shadow(el).querySelector<HTMLButtonElement>("button[aria-label='Move photo 3 earlier']")!.click()
    await el.updateComplete
    assert.deepStrictEqual(el.photos.map((p) => p.name), ["a.jpg", "c.jpg", "b.jpg"])
    shadow(el).querySelector<HTMLButtonElement>("button[aria-label^='Photo 3:']")!.click()
    await el.updateComplete
    const alt = shadow(el).querySelector<HTMLInputElement>("input[name=altText]")!
    alt.value = "the b photo"
    alt.dispatchEvent(new Event("input"))
    shadow(el).querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
    await waitFor(() => FakeXhr.last !== undefined)
    const parts: Array<string> = []
    FakeXhr.last!.body!.forEach((v, k) => parts.push(typeof v === "string" ? `${k}=${v}` : `${k}:${v.name}`))
    assert.deepStrictEqual(parts, ["image:a.jpg", "image:c.jpg", "altText=the b photo", "image:b.jpg"])
    FakeXhr.last!.answer(202, { postId: "p1", status: "processing" })
    await waitFor(() => el.phase === "processing")
    el.reset()
    await el.add(Array.from({ length: 11 }, (_, i) => jpeg(10, `${i}.jpg`)))
    await el.updateComplete
    assert.strictEqual(el.photos.length, 10)
    assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, /at most 10 photos/)
  })

  it("turns the server's 413 and 415 into sentences", async () => {
    fakeFetch({ "GET /auth/session": { body: { user: me() } } })
    const el = await make()
    for (const [status, pattern] of [[413, /too large/], [415, /not supported/]] as const) {
      el.reset()
      await el.choose(jpeg())
      await el.updateComplete
      FakeXhr.last = undefined
      shadow(el).querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }))
      await waitFor(() => FakeXhr.last !== undefined)
      FakeXhr.last!.answer(status, { error: { code: "X", message: "raw" } })
      await waitFor(() => el.phase === "failed")
      await el.updateComplete
      assert.match(shadow(el).querySelector("[role=alert]")!.textContent!, pattern)
    }
  })
})
