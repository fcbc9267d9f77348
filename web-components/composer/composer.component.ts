import { html, nothing } from "lit"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError, type UploadHandle } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import "../post/post.ts"
import { styles } from "./composer.styles.ts"

/** The server's limits (API.md: 10 MB; JPEG, PNG, WebP, AVIF, GIF), checked here first to fail fast. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024
const ACCEPTED = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"]
const POLL_MS = 2_000
/** Even with the socket up, poll now and then in case a frame went astray. */
const SAFETY_POLL_MS = 10_000

type Phase = "idle" | "uploading" | "processing" | "published" | "failed"

/**
 * @summary Posting a photo: pick or drop a file, see it at once, add a caption and alt text,
 * watch the real upload progress, then "processing" until the server's `post_ready` frame
 * (polling the post instead while the socket is down) and the published post.
 *
 * @csspart form - The whole form.
 * @csspart dropzone - The file picker / drop target with the preview.
 * @csspart progress - The upload progress bar.
 * @csspart submit - The share button.
 * @csspart error - Why the upload failed (size, type, network).
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
    file: { state: true },
    preview: { state: true },
    phase: { state: true },
    progress: { state: true },
    error: { state: true },
    published: { state: true },
    over: { state: true }
  }

  declare file: File | undefined
  declare preview: string | undefined
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

  constructor() {
    super()
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

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#poll)
  }

  /** Takes a file (from the picker, a drop, or a caller). Refuses what the server would refuse. */
  choose(file: File | undefined): void {
    this.error = ""
    if (!file) return
    if (!ACCEPTED.includes(file.type)) {
      this.error = describeError(new ApiError(415, "UnsupportedMediaType", ""))
      return
    }
    if (file.size > MAX_UPLOAD_BYTES) {
      this.error = `That photo is ${(file.size / 1048576).toFixed(1)} MB; the limit is 10 MB.`
      return
    }
    if (this.preview) URL.revokeObjectURL(this.preview)
    this.file = file
    this.preview = URL.createObjectURL(file)
    this.phase = "idle"
    this.published = undefined
  }

  #onDrop(event: DragEvent) {
    event.preventDefault()
    this.over = false
    this.choose(event.dataTransfer?.files[0])
  }

  async #submit(event: SubmitEvent) {
    event.preventDefault()
    if (!this.file || this.phase === "uploading" || this.phase === "processing") return
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    this.error = ""
    this.phase = "uploading"
    this.progress = 0
    this.#upload = this.client.rest.upload(
      {
        image: this.file,
        filename: this.file.name,
        caption: String(data.get("caption") ?? ""),
        altText: String(data.get("altText") ?? "")
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

  /** Clears the form for the next post. */
  reset(): void {
    this.#upload?.abort()
    clearTimeout(this.#poll)
    if (this.preview) URL.revokeObjectURL(this.preview)
    this.file = undefined
    this.preview = undefined
    this.phase = "idle"
    this.progress = 0
    this.error = ""
    this.published = undefined
    this.#postId = undefined
    this.renderRoot.querySelector("form")?.reset()
  }

  override render() {
    const busy = this.phase === "uploading" || this.phase === "processing"
    return html`<form part="form" @submit=${this.#submit} aria-label="New post">
      <label
        class="drop ${this.over ? "over" : ""}"
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
          accept=${ACCEPTED.join(",")}
          ?disabled=${busy}
          @change=${(e: Event) => this.choose((e.target as HTMLInputElement).files?.[0])}
        />
        ${this.preview
          ? html`<img src=${this.preview} alt="Preview of the chosen photo" />`
          : html`<span>Choose a photo or drop it here<br /><small>JPEG, PNG, WebP, AVIF or GIF, up to 10 MB</small></span>`}
      </label>
      <label>Caption <textarea name="caption" rows="3" maxlength="2200" ?disabled=${busy}></textarea></label>
      <label>Alt text (describe the photo for people who cannot see it)
        <input name="altText" maxlength="1000" ?disabled=${busy} />
      </label>
      ${this.phase === "uploading" || this.phase === "processing"
        ? html`<progress part="progress" max="100" .value=${this.progress} aria-label="Upload progress">${this.progress}%</progress>`
        : nothing}
      <p class="status" tabindex="-1" role="status" aria-live="polite">
        ${this.phase === "uploading" ? `Uploading… ${this.progress}%` : ""}
        ${this.phase === "processing" ? "Processing…" : ""}
        ${this.phase === "published" ? "Published!" : ""}
      </p>
      <div role="alert" part="error" class="error">${this.error}</div>
      <div class="row">
        <button class="primary" type="submit" part="submit" ?disabled=${!this.file || busy || this.phase === "published"}>Share</button>
        ${this.phase === "published" || this.phase === "failed" ? html`<button type="button" @click=${() => this.reset()}>New post</button>` : nothing}
      </div>
      ${this.published ? html`<ap-post .post=${this.published} .client=${this.client} theme=${this.theme ?? nothing}></ap-post>` : nothing}
    </form>`
  }
}
