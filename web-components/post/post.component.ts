import { html, nothing } from "lit"
import type { Post, PostMedia } from "../../src/domain/Posts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { plural, srcset, timeAgo } from "../shared/format.ts"
import { bookmark, comment, heart } from "../shared/icons.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./post.styles.ts"

type Photo = Pick<PostMedia, "variants" | "width" | "height" | "placeholder" | "dominantColor" | "altText">

/**
 * @summary One post: the photo (responsive `srcset`, blurred placeholder until it loads, alt
 * text), its author, caption, and like / save / comment actions with the comment thread.
 *
 * Like and save are optimistic: the button changes at once and rolls back, with a message,
 * when the server says no or cannot be reached.
 *
 * Inside a feed (`posinset` set) the card is the feed's `article`: focusable (`tabindex=-1`, so
 * PageDown / PageUp can move to it), with `aria-posinset`, `aria-setsize` and `aria-labelledby`
 * on the article itself (a shadow host cannot be labelled by ids inside its shadow root, and a
 * host with `tabindex=-1` would take every control inside it out of the Tab order).
 *
 * @attr post-id - Loads the post by id when no `post` object is given.
 * @attr open-comments - Shows the comment thread from the start.
 * @attr posinset - The post's position in a feed (1-based); unset outside a feed.
 * @attr setsize - How many posts the feed has, or -1 while more may load.
 *
 * @csspart card - The post's outer box.
 * @csspart image - The photo.
 * @csspart actions - The row of like / comment / save buttons.
 * @csspart like-button - The like button (`aria-pressed` tells its state).
 * @csspart save-button - The save button.
 * @csspart caption - The caption text.
 * @csspart comments - The comment thread and its form (`<ap-comments>`, a chunk loaded when first opened).
 * @csspart error - The message shown when an action failed.
 *
 * @cssprop --ap-bg - Card background.
 * @cssprop --ap-fg - Text colour.
 * @cssprop --ap-muted - Secondary text.
 * @cssprop --ap-border - Card border.
 * @cssprop --ap-like - Colour of a liked heart.
 * @cssprop --ap-radius - Card corner radius.
 *
 * @fires ap-like - A like or unlike was confirmed.
 * @fires ap-save - A save or unsave was confirmed.
 * @fires ap-post-change - The post changed here (optimistic, confirmed or rolled back).
 * @fires ap-post-delete - The author deleted it (from the "…" editor, a chunk loaded on first use).
 * @fires ap-error - An action failed; the card shows the message too.
 */
export class ApPost extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    post: { attribute: false },
    postId: { type: String, attribute: "post-id" },
    openComments: { type: Boolean, attribute: "open-comments" },
    posinset: { type: Number },
    setsize: { type: Number },
    error: { state: true },
    loaded: { state: true },
    commentsOpen: { state: true },
    pending: { state: true },
    slide: { state: true },
    deleted: { state: true },
    editing: { state: true }
  }

  declare post: Post | undefined
  declare postId: string | undefined
  declare openComments: boolean
  declare posinset: number | undefined
  declare setsize: number | undefined
  declare error: string
  declare loaded: boolean
  declare commentsOpen: boolean
  declare pending: boolean
  /** The carousel's photo on screen (0-based). */
  declare slide: number
  declare editing: boolean
  declare deleted: boolean
  #shownId: string | undefined
  /** The photo a button or key is scrolling to. */
  #target: number | undefined
  /** Live counts of the shown post (a lazy chunk, loaded once a signed-in reader is known). */
  #live: { update(id: string | undefined): void } | undefined
  #liveLoading = false

  constructor() {
    super()
    this.openComments = false
    this.error = ""
    this.loaded = false
    this.commentsOpen = false
    this.pending = false
    this.slide = 0
    this.editing = false
    this.deleted = false
    this.addEventListener("ap-post-change", (e) => {
      if (e.composedPath()[0] !== this) this.post = e.detail.post
    })
    this.addEventListener("ap-post-delete", () => (this.deleted = true))
  }

  override connectedCallback(): void {
    super.connectedCallback()
    if (this.hasUpdated) this.updated()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.#watch(undefined)
  }

  protected override updated(): void {
    this.#watch(this.isConnected && this.post?.status === "published" ? this.post.id : undefined)
  }

  /** Everyone's likes and comments on the shown post, while it is on the page for a signed-in reader. */
  #watch(id: string | undefined) {
    if (this.#live || id === undefined || this.#liveLoading) return this.#live?.update(id)
    this.#liveLoading = true
    void this.client.session().then(async (me) => {
      if (!me) return (this.#liveLoading = false)
      const { liveCounts } = await import("./live-counts.ts")
      this.#live = liveCounts(this, (c) => {
        const post = this.post
        if (!post || post.id !== c.postId || this.pending) return
        if (post.counts.likes !== c.likes || post.counts.comments !== c.comments) this.#change({ ...post, counts: { ...post.counts, likes: c.likes, comments: c.comments } })
      })
      this.updated()
    }, () => (this.#liveLoading = false))
  }

  /** Focuses the card itself (the feed's PageDown / PageUp and the new-posts pill move here). */
  override focus(options?: FocusOptions): void {
    const card = this.renderRoot?.querySelector<HTMLElement>("article")
    if (card) card.focus(options)
    else super.focus(options)
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has("postId") && this.postId && this.post?.id !== this.postId) void this.#load(this.postId)
    if (changed.has("post") && this.post?.id !== this.#shownId) {
      // a virtualized list reuses this element for another post: start from a clean slate
      this.#shownId = this.post?.id
      this.loaded = false
      this.error = ""
      this.slide = 0
      this.#target = undefined
      this.editing = false
      this.deleted = false
      this.commentsOpen = this.openComments
      if (this.commentsOpen) void import("./comments.ts")
    }
  }

  async #load(id: string) {
    try {
      this.post = await this.client.rest.post(id)
    } catch (error) {
      this.#fail(error)
    }
  }

  #fail(error: unknown) {
    this.error = describeError(error)
    const status = error instanceof ApiError ? error.status : undefined
    const code = error instanceof ApiError ? error.code : undefined
    this.emit("ap-error", { message: this.error, status, code })
  }

  #change(post: Post) {
    this.post = post
    this.emit("ap-post-change", { post })
  }

  async toggleLike(): Promise<void> {
    const before = this.post
    if (!before || this.pending) return
    const liked = !(before.viewer?.isLiked ?? false)
    this.error = ""
    this.pending = true
    this.#change({
      ...before,
      viewer: { isLiked: liked, isSaved: before.viewer?.isSaved ?? false },
      counts: { ...before.counts, likes: Math.max(0, before.counts.likes + (liked ? 1 : -1)) }
    })
    try {
      const state = liked ? await this.client.rest.like(before.id) : await this.client.rest.unlike(before.id)
      const now = this.post ?? before
      this.#change({ ...now, viewer: { isLiked: state.liked, isSaved: now.viewer?.isSaved ?? false }, counts: { ...now.counts, likes: state.likes } })
      this.emit("ap-like", { postId: before.id, liked: state.liked, likes: state.likes })
    } catch (error) {
      this.#change(before)
      this.#fail(error)
      this.error = `${liked ? "Couldn't like" : "Couldn't unlike"} this post. ${this.error}`
    } finally {
      this.pending = false
    }
  }

  async toggleSave(): Promise<void> {
    const before = this.post
    if (!before || this.pending) return
    const saved = !(before.viewer?.isSaved ?? false)
    this.error = ""
    this.pending = true
    this.#change({ ...before, viewer: { isLiked: before.viewer?.isLiked ?? false, isSaved: saved } })
    try {
      const state = saved ? await this.client.rest.save(before.id) : await this.client.rest.unsave(before.id)
      this.emit("ap-save", { postId: before.id, saved: state.saved })
    } catch (error) {
      this.#change(before)
      this.#fail(error)
      this.error = `${saved ? "Couldn't save" : "Couldn't unsave"} this post. ${this.error}`
    } finally {
      this.pending = false
    }
  }

  #toggleComments() {
    this.commentsOpen = !this.commentsOpen
    // the thread is a chunk of its own, fetched the first time comments open
    if (this.commentsOpen) void import("./comments.ts").then(() => this.renderRoot.querySelector<HTMLElement>("ap-comments")?.focus())
  }

  #edit() {
    this.editing = !this.editing
    // the editor is a chunk of its own, fetched the first time an author opens it
    if (this.editing) void import("./post-edit.ts")
  }

  #media(post: Post) {
    const url = (p: string) => this.client.rest.url(p)
    if (post.status !== "published" || !post.variants) {
      return html`<div class="processing" part="image">${post.status === "failed" ? "This photo could not be processed." : "Processing…"}</div>`
    }
    // a carousel's photos share the first one's frame (the composer crops them all to it)
    const ratio = post.width && post.height ? `${post.width} / ${post.height}` : "4 / 5"
    const photos: ReadonlyArray<Photo> = post.media?.length ? post.media : [post]
    const n = photos.length
    const slide = (m: Photo, i: number) => {
      const placeholder = m.placeholder ? `background-image:url("${m.placeholder}");` : ""
      const color = m.dominantColor ? `background-color:${m.dominantColor};` : ""
      return html`<div
        class="media"
        style="aspect-ratio:${ratio};${placeholder}${color}"
        role=${n > 1 ? "group" : nothing}
        aria-roledescription=${n > 1 ? "slide" : nothing}
        aria-label=${n > 1 ? `${i + 1} of ${n}` : nothing}
      >
        ${m.variants
          ? html`<img
          part="image"
          class=${i === 0 && this.loaded ? "loaded" : ""}
          src=${url(m.variants.medium)}
          srcset=${srcset(m.variants, url)}
          sizes="(max-width: 640px) 100vw, 640px"
          alt=${m.altText || `Photo ${n > 1 ? `${i + 1} of ${n} ` : ""}by ${post.author.username}`}
          width=${m.width ?? 1080}
          height=${m.height ?? 1350}
          loading="lazy"
          decoding="async"
          @load=${(e: Event) => (i === 0 ? (this.loaded = true) : (e.target as HTMLElement).classList.add("loaded"))}
        />`
          : nothing}
      </div>`
    }
    if (n === 1) return slide(photos[0]!, 0)
    const at = Math.min(this.slide, n - 1)
    return html`<div class="carousel" role="group" aria-roledescription="carousel" aria-label="${n} photos">
      <div class="track" tabindex="0" aria-label="Photos: use the arrow keys" @pointerdown=${() => (this.#target = undefined)} @scroll=${this.#onScroll} @keydown=${this.#onSlideKey}>
        ${photos.map(slide)}
      </div>
      <button type="button" class="prev" aria-label="Previous photo" ?hidden=${at === 0} @click=${() => this.showSlide(at - 1)}>‹</button>
      <button type="button" class="next" aria-label="Next photo" ?hidden=${at === n - 1} @click=${() => this.showSlide(at + 1)}>›</button>
      <div class="dots" aria-hidden="true">${photos.map((_, i) => html`<i class=${i === at ? "on" : ""}></i>`)}</div>
    </div>`
  }

  /** Scrolls a carousel to its photo `i` (0-based). */
  showSlide(i: number): void {
    const track = this.renderRoot.querySelector<HTMLElement>(".track")
    const n = track?.children.length ?? 0
    if (!track || n === 0) return
    this.slide = this.#target = Math.max(0, Math.min(n - 1, i))
    track.scrollTo({ left: this.slide * track.clientWidth, behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" })
  }

  #onScroll(e: Event) {
    const track = e.target as HTMLElement
    const w = track.clientWidth
    // while scrolling to a chosen photo, the dots stay on it (not on each photo passed on the way)
    if (w === 0 || (this.#target !== undefined && Math.abs(track.scrollLeft - this.#target * w) > w / 20)) return
    this.#target = undefined
    this.slide = Math.round(track.scrollLeft / w)
  }

  #onSlideKey(e: KeyboardEvent) {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0
    if (step === 0) return
    e.preventDefault()
    this.showSlide(this.slide + step)
  }

  override render() {
    const post = this.post
    if (this.deleted) return html`<p class="muted" role="status">Post deleted.</p>`
    if (!post) return html`<div role="alert" part="error" class="error">${this.error}</div>`
    const author = post.author
    const liked = post.viewer?.isLiked ?? false
    const saved = post.viewer?.isSaved ?? false
    const signedIn = post.viewer !== null
    const inFeed = this.posinset !== undefined
    return html`<article
      part="card"
      tabindex=${inFeed ? "-1" : nothing}
      aria-posinset=${inFeed ? this.posinset! : nothing}
      aria-setsize=${inFeed ? (this.setsize ?? -1) : nothing}
      aria-labelledby="card-label"
      aria-describedby=${post.caption ? "card-caption" : nothing}
    >
      <span id="card-label" hidden>Post by ${author.username}</span>
      <header>
        ${author.avatar
          ? html`<img class="avatar" src=${this.client.rest.url(author.avatar.thumbnail)} alt="" />`
          : html`<span class="avatar" aria-hidden="true"></span>`}
        <a href=${this.client.rest.pageUrl(`/u/${author.username}`)}>${author.username}</a>
        ${this.client.me?.id === author.id
          ? html`<button type="button" class="more" aria-label="Edit or delete this post" aria-expanded=${this.editing ? "true" : "false"} @click=${this.#edit}>…</button>`
          : nothing}
      </header>
      ${this.editing
        ? html`<ap-post-edit .post=${post} .client=${this.client} @ap-edit-close=${() => (this.editing = false)}></ap-post-edit>`
        : nothing}
      ${this.#media(post)}
      <div class="actions" part="actions">
        <button
          type="button"
          class="like"
          part="like-button"
          aria-pressed=${liked ? "true" : "false"}
          ?disabled=${!signedIn}
          @click=${() => this.toggleLike()}
        >${heart(liked)}<span class="visually-hidden">Like</span> <span class="count">${post.counts.likes}</span></button>
        <button type="button" class="comment" part="comment-button" aria-expanded=${this.commentsOpen ? "true" : "false"} @click=${this.#toggleComments}>
          ${comment()}<span class="visually-hidden">Comments</span> <span class="count">${post.counts.comments}</span>
        </button>
        <span class="spacer"></span>
        <button
          type="button"
          class="save"
          part="save-button"
          aria-pressed=${saved ? "true" : "false"}
          ?disabled=${!signedIn}
          @click=${() => this.toggleSave()}
        >${bookmark(saved)}<span class="visually-hidden">Save</span></button>
      </div>
      <div class="body">
        <div class="muted">${plural(post.counts.likes, "like")}</div>
        ${post.caption ? html`<p class="caption" id="card-caption" part="caption"><strong>${author.username}</strong> ${post.caption}</p>` : nothing}
        <a href=${this.client.rest.pageUrl(`/p/${post.id}`)}><time datetime=${post.publishedAt ?? post.createdAt}>${timeAgo(post.publishedAt ?? post.createdAt)}</time></a>
        <div role="alert" part="error" class="error">${this.error}</div>
        ${this.commentsOpen ? html`<ap-comments part="comments" .post=${post} .client=${this.client}></ap-comments>` : nothing}
      </div>
    </article>`
  }
}
