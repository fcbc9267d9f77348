import { html, nothing } from "lit"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError, type UploadHandle } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import "../post/post.ts"
import { styles } from "./composer.styles.ts"
import { type Aspect, ASPECTS, cropped, isWhole, loadDraft, measure, panned, type Photo, placement, ratioOf, saveDraft, sniff } from "./photos.ts"

/** The server's limits (API.md: 10 MB; JPEG, PNG, WebP, AVIF, GIF; 1–10 photos), checked here first to fail fast. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024
export const MAX_PHOTOS = 10
const ACCEPTED = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"]
const POLL_MS = 2_000
/** Even with the socket up, poll now and then in case a frame went astray. */
const SAFETY_POLL_MS = 10_000
/** A draft is written this long after the last change. */
const DRAFT_MS = 300
const NOT_A_PHOTO = "is not a photo this app can post: choose a JPEG, PNG, WebP, AVIF or GIF."

type Phase = "idle" | "uploading" | "processing" | "published" | "failed"

/**
 * @summary Posting 1–10 photos: pick or drop files (each checked by its first bytes before any is
 * sent), frame them as they will be published (Original within 4:5 … 1.91:1, 1:1, 4:5 or 1.91:1;
 * zoom; drag or arrow keys to move), reorder, alt text per photo, a caption, then the real upload
 * progress and "processing" until the server's `post_ready` frame (polling while the socket is
 * down). A photo the frame shows whole is sent as it is; a crop is sent as a JPEG. The draft —
 * photos included — is kept in IndexedDB, so a reload keeps it; publishing clears the form.
 *
 * @csspart form - The whole form.
 * @csspart dropzone - The file picker / drop target.
 * @csspart frame - The preview of the current photo, framed as it will be published.
 * @csspart progress - The upload progress bar.
 * @csspart submit - The share button.
 * @csspart error - Why a file was refused or the upload failed (size, type, network).
 *
 * @cssprop --ap-accent - Progress bar and button colour.
 *
 * @fires ap-upload-progress - Bytes sent so far.
 * @fires ap-post-created - The server accepted the upload; the post is processing.
 * @fires ap-post-published - The post is processed and visible.
 * @fires ap-error - The upload or the processing failed.
 */
export class ApComposer extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    photos: { state: true },
    current: { state: true },
    aspect: { state: true },
    caption: { state: true },
    phase: { state: true },
    progress: { state: true },
    error: { state: true },
    published: { state: true },
    over: { state: true }
  }

  /** How a photo's size is read (tests without a decoder replace it). */
  static measure = measure

  declare photos: ReadonlyArray<Photo>
  /** The photo being framed (0-based). */
  declare current: number
  declare aspect: Aspect
  declare caption: string
  declare phase: Phase
  /** 0–100. */
  declare progress: number
  declare error: string
  declare published: Post | undefined
  declare over: boolean
  #postId: string | undefined
  #upload: UploadHandle | undefined
  #poll: ReturnType<typeof setTimeout> | undefined
  #lastPoll = 0
  #urls = new Map<string, string>()
  #draftKey: string | undefined
  #draftTimer: ReturnType<typeof setTimeout> | undefined
  #drag: { x: number; y: number } | undefined

  constructor() {
    super()
    this.photos = []
    this.current = 0
    this.aspect = "original"
    this.caption = ""
    this.phase = "idle"
    this.progress = 0
    this.error = ""
    this.over = false
    new LiveController(this, {
      post_ready: (frame) => {
        if (frame.payload.postId === this.#postId) void this.#finish()
      },
      post_failed: (frame) => {
        if (frame.payload.postId === this.#postId) this.#failed(`This photo could not be processed: ${frame.payload.reason}`)
      }
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this.#restore()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#poll)
    if (this.#draftTimer !== undefined) {
      clearTimeout(this.#draftTimer)
      void this.#saveDraft()
    }
  }

  /** A draft of this person's, kept from an earlier visit, comes back (unless something was chosen meanwhile). */
  async #restore() {
    const me = await this.client.session().catch(() => null)
    if (!me) return
    this.#draftKey = `${this.api ?? ""}:${me.id}`
    const draft = await loadDraft(this.#draftKey)
    if (!draft || draft.userId !== me.id || this.photos.length > 0 || this.caption !== "") return
    this.photos = draft.photos
    this.caption = draft.caption
    this.aspect = draft.aspect
  }

  #saveDraft() {
    this.#draftTimer = undefined
    const me = this.client.me
    if (!this.#draftKey || !me || this.phase === "uploading" || this.phase === "processing") return
    return saveDraft(this.#draftKey, { userId: me.id, caption: this.caption, aspect: this.aspect, photos: this.photos })
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has("photos") || changed.has("caption") || changed.has("aspect")) {
      clearTimeout(this.#draftTimer)
      this.#draftTimer = setTimeout(() => void this.#saveDraft(), DRAFT_MS)
    }
  }

  #url(p: Photo) {
    let url = this.#urls.get(p.id)
    if (url === undefined) this.#urls.set(p.id, (url = URL.createObjectURL(p.file)))
    return url
  }

  #forget(p: Photo) {
    const url = this.#urls.get(p.id)
    if (url !== undefined) URL.revokeObjectURL(url)
    this.#urls.delete(p.id)
  }

  /** Takes a file (from the picker, a drop, or a caller). Refuses what the server would refuse. */
  choose(file: File | undefined): Promise<void> {
    return this.add(file ? [file] : [])
  }

  /**
   * Adds photos after the ones chosen so far: each must be at most 10 MB and start with the bytes
   * of a JPEG, PNG, WebP, AVIF or GIF (its name and type are not trusted), and there may be 10.
   */
  async add(files: ArrayLike<File>): Promise<void> {
    this.error = ""
    const added: Array<Photo> = []
    for (const file of Array.from(files)) {
      if (this.photos.length + added.length >= MAX_PHOTOS) {
        this.error = `A post has at most ${MAX_PHOTOS} photos.`
        break
      }
      if (file.size > MAX_UPLOAD_BYTES) {
        this.error = `That photo is ${(file.size / 1048576).toFixed(1)} MB; the limit is 10 MB.`
        continue
      }
      const type = sniff(new Uint8Array(await file.slice(0, 16).arrayBuffer()))
      if (!type || !ACCEPTED.includes(type)) {
        this.error = `“${file.name}” ${NOT_A_PHOTO}`
        continue
      }
      try {
        const { width, height } = await ApComposer.measure(file)
        added.push({ id: crypto.randomUUID(), file, name: file.name, width, height, alt: "", zoom: 1, x: 0.5, y: 0.5 })
      } catch {
        this.error = `“${file.name}” could not be read as a photo.`
      }
    }
    if (added.length === 0) return
    if (this.phase !== "uploading" && this.phase !== "processing") {
      this.phase = "idle"
      this.published = undefined
    }
    this.current = this.photos.length
    this.photos = [...this.photos, ...added]
  }

  #update(i: number, change: Partial<Photo>) {
    this.photos = this.photos.map((p, j) => (j === i ? { ...p, ...change } : p))
  }

  #move(i: number, by: number) {
    const j = i + by
    if (j < 0 || j >= this.photos.length) return
    const photos = [...this.photos]
    ;[photos[i], photos[j]] = [photos[j]!, photos[i]!]
    this.photos = photos
    this.current = j
  }

  #remove(i: number) {
    this.#forget(this.photos[i]!)
    this.photos = this.photos.filter((_, j) => j !== i)
    this.current = Math.max(0, Math.min(this.current, this.photos.length - 1))
  }

  #pan(dx: number, dy: number) {
    const frame = this.renderRoot.querySelector<HTMLElement>(".frame")
    const p = this.photos[this.current]
    if (!frame || !p) return
    this.photos = this.photos.map((q, j) => (j === this.current ? panned(q, ratioOf(this.aspect, this.photos[0]), dx, dy, frame.clientWidth) : q))
  }

  #onFrameKey(e: KeyboardEvent) {
    const step = e.shiftKey ? 40 : 10
    const moves: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }
    const zooms: Record<string, number> = { "+": 0.1, "=": 0.1, "-": -0.1 }
    const p = this.photos[this.current]
    if (!p) return
    if (moves[e.key]) this.#pan(...moves[e.key]!)
    else if (zooms[e.key] !== undefined) this.#update(this.current, { zoom: Math.min(3, Math.max(1, p.zoom + zooms[e.key]!)) })
    else return
    e.preventDefault()
  }

  #onDrop(event: DragEvent) {
    event.preventDefault()
    this.over = false
    void this.add(event.dataTransfer?.files ?? [])
  }

  async #submit(event: SubmitEvent) {
    event.preventDefault()
    const photos = this.photos
    if (photos.length === 0 || this.phase === "uploading" || this.phase === "processing") return
    this.error = ""
    this.phase = "uploading"
    this.progress = 0
    const ratio = ratioOf(this.aspect, photos[0])
    let images: Array<Blob>
    try {
      images = await Promise.all(photos.map((p) => cropped(p, ratio)))
    } catch (error) {
      return this.#failed(`A photo could not be cropped: ${error instanceof Error ? error.message : String(error)}`)
    }
    this.#upload = this.client.rest.upload(
      {
        caption: this.caption,
        photos: photos.map((p, i) => ({
          image: images[i]!,
          filename: images[i] === p.file ? p.name : p.name.replace(/\.[^.]*$/, "") + ".jpg",
          altText: p.alt
        }))
      },
      (loaded, total) => {
        this.progress = total > 0 ? Math.round((loaded / total) * 100) : 0
        this.emit("ap-upload-progress", { loaded, total })
      }
    )
    try {
      const accepted = await this.#upload.done
      this.progress = 100
      this.#postId = accepted.postId
      this.phase = "processing"
      this.emit("ap-post-created", { postId: accepted.postId })
      this.#schedulePoll()
    } catch (error) {
      this.#failed(describeError(error), error)
    } finally {
      this.#upload = undefined
    }
  }

  /** Polls the post while the socket is down, and now and then regardless. */
  #schedulePoll() {
    clearTimeout(this.#poll)
    this.#poll = setTimeout(async () => {
      if (this.phase !== "processing" || !this.#postId) return
      const due = !this.client.socket.connected || Date.now() - this.#lastPoll >= SAFETY_POLL_MS
      if (due) {
        this.#lastPoll = Date.now()
        try {
          const post = await this.client.rest.post(this.#postId)
          if (post.status === "published") return void this.#finish(post)
          if (post.status === "failed") return this.#failed("This photo could not be processed.")
        } catch {
          // the network is down too: keep trying
        }
      }
      this.#schedulePoll()
    }, POLL_MS)
  }

  async #finish(post?: Post) {
    if (this.phase !== "processing" || !this.#postId) return
    clearTimeout(this.#poll)
    try {
      const ready = post ?? (await this.client.rest.post(this.#postId))
      // the form is clean for the next post; the published one shows below it
      this.#clear()
      this.published = ready
      this.phase = "published"
      this.emit("ap-post-published", { post: ready })
      await this.updateComplete
      this.renderRoot.querySelector<HTMLElement>(".status")?.focus()
    } catch (error) {
      this.#failed(describeError(error), error)
    }
  }

  #failed(message: string, error?: unknown) {
    clearTimeout(this.#poll)
    this.phase = "failed"
    this.error = message
    this.emit("ap-error", {
      message,
      status: error instanceof ApiError ? error.status : undefined,
      code: error instanceof ApiError ? error.code : undefined
    })
  }

  #clear() {
    for (const p of this.photos) this.#forget(p)
    this.photos = []
    this.current = 0
    this.caption = ""
    this.aspect = "original"
    this.#postId = undefined
    this.renderRoot.querySelector("form")?.reset()
    if (this.#draftKey) void saveDraft(this.#draftKey, undefined)
  }

  /** Clears the form for the next post (the draft too). */
  reset(): void {
    this.#upload?.abort()
    clearTimeout(this.#poll)
    this.#clear()
    this.phase = "idle"
    this.progress = 0
    this.error = ""
    this.published = undefined
  }

  #editor(busy: boolean) {
    const photos = this.photos
    const p = photos[this.current]
    if (!p) return nothing
    const ratio = ratioOf(this.aspect, photos[0])
    const n = photos.length
    return html`<div class="editor">
      <div
        class="frame"
        part="frame"
        style="aspect-ratio:${ratio}"
        tabindex="0"
        role="group"
        aria-label="Photo ${this.current + 1} of ${n} as it will be published${isWhole(p, ratio) ? ", whole" : ", cropped"}: drag or use the arrow keys to move it, + and - to zoom"
        @keydown=${this.#onFrameKey}
        @pointerdown=${(e: PointerEvent) => {
          ;(e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId)
          this.#drag = { x: e.clientX, y: e.clientY }
        }}
        @pointermove=${(e: PointerEvent) => {
          if (!this.#drag) return
          this.#pan(e.clientX - this.#drag.x, e.clientY - this.#drag.y)
          this.#drag = { x: e.clientX, y: e.clientY }
        }}
        @pointerup=${() => (this.#drag = undefined)}
        @pointercancel=${() => (this.#drag = undefined)}
      >
        <img src=${this.#url(p)} alt="" draggable="false" style=${placement(p, ratio)} />
      </div>
      <div class="row tools">
        <label>Frame
          <select ?disabled=${busy} @change=${(e: Event) => (this.aspect = (e.target as HTMLSelectElement).value as Aspect)}>
            ${(Object.keys(ASPECTS) as Array<Aspect>).map((a) => html`<option value=${a} ?selected=${a === this.aspect}>${ASPECTS[a]}</option>`)}
          </select>
        </label>
        <label>Zoom
          <input type="range" min="1" max="3" step="0.01" .value=${String(p.zoom)} ?disabled=${busy}
            @input=${(e: Event) => this.#update(this.current, { zoom: Number((e.target as HTMLInputElement).value) })} />
        </label>
      </div>
      <ol class="strip" aria-label="Photos in the order they will appear">
        ${photos.map((q, i) => html`<li>
          <button type="button" class="thumb" aria-pressed=${i === this.current ? "true" : "false"} aria-label="Photo ${i + 1}: ${q.name}"
            @click=${() => (this.current = i)}><img src=${this.#url(q)} alt="" /></button>
          <span class="row">
            <button type="button" aria-label="Move photo ${i + 1} earlier" ?disabled=${busy || i === 0} @click=${() => this.#move(i, -1)}>←</button>
            <button type="button" aria-label="Move photo ${i + 1} later" ?disabled=${busy || i === n - 1} @click=${() => this.#move(i, 1)}>→</button>
            <button type="button" aria-label="Remove photo ${i + 1}" ?disabled=${busy} @click=${() => this.#remove(i)}>✕</button>
          </span>
        </li>`)}
      </ol>
      <label>Alt text${n > 1 ? ` for photo ${this.current + 1}` : ""} (describe the photo for people who cannot see it)
        <input name="altText" maxlength="1000" ?disabled=${busy} .value=${p.alt}
          @input=${(e: Event) => this.#update(this.current, { alt: (e.target as HTMLInputElement).value })} />
      </label>
    </div>`
  }

  override render() {
    const busy = this.phase === "uploading" || this.phase === "processing"
    const n = this.photos.length
    return html`<form part="form" @submit=${this.#submit} aria-label="New post">
      <label
        class="drop ${this.over ? "over" : ""} ${n > 0 ? "more" : ""}"
        part="dropzone"
        @dragover=${(e: DragEvent) => {
          e.preventDefault()
          this.over = true
        }}
        @dragleave=${() => (this.over = false)}
        @drop=${this.#onDrop}
      >
        <input
          type="file"
          name="image"
          multiple
          accept=${ACCEPTED.join(",")}
          ?disabled=${busy || n >= MAX_PHOTOS}
          @change=${(e: Event) => {
            const input = e.target as HTMLInputElement
            void this.add(input.files ?? []).then(() => (input.value = ""))
          }}
        />
        <span>${n > 0 ? `Add more photos (${n} of ${MAX_PHOTOS})` : html`Choose photos or drop them here<br /><small>1–10 photos: JPEG, PNG, WebP, AVIF or GIF, up to 10 MB each</small>`}</span>
      </label>
      ${this.#editor(busy)}
      <label>Caption <textarea name="caption" rows="3" maxlength="2200" ?disabled=${busy} .value=${this.caption}
        @input=${(e: Event) => (this.caption = (e.target as HTMLTextAreaElement).value)}></textarea></label>
      ${busy ? html`<progress part="progress" max="100" .value=${this.progress} aria-label="Upload progress">${this.progress}%</progress>` : nothing}
      <p class="status" tabindex="-1" role="status" aria-live="polite">
        ${this.phase === "uploading" ? `Uploading… ${this.progress}%` : ""}
        ${this.phase === "processing" ? "Processing…" : ""}
        ${this.phase === "published" ? "Published!" : ""}
      </p>
      <div role="alert" part="error" class="error">${this.error}</div>
      <div class="row">
        <button class="primary" type="submit" part="submit" ?disabled=${n === 0 || busy}>Share</button>
        ${n > 0 && !busy ? html`<button type="button" @click=${() => this.reset()}>Discard</button>` : nothing}
      </div>
      ${this.published ? html`<ap-post .post=${this.published} .client=${this.client} theme=${this.theme ?? nothing}></ap-post>` : nothing}
    </form>`
  }
}
