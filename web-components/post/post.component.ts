import { html, nothing } from "lit"
import type { Comment } from "../../src/domain/Engagement.ts"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { plural, srcset, timeAgo } from "../shared/format.ts"
import { bookmark, comment, heart } from "../shared/icons.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./post.styles.ts"

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
 * @csspart comments - The comment thread and its form.
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
    comments: { state: true },
    commentsOpen: { state: true },
    pending: { state: true }
  }

  declare post: Post | undefined
  declare postId: string | undefined
  declare openComments: boolean
  declare posinset: number | undefined
  declare setsize: number | undefined
  declare error: string
  declare loaded: boolean
  declare comments: ReadonlyArray<Comment> | undefined
  declare commentsOpen: boolean
  declare pending: boolean
  #shownId: string | undefined

  constructor() {
    super()
    this.openComments = false
    this.error = ""
    this.loaded = false
    this.commentsOpen = false
    this.pending = false
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
      this.comments = undefined
      this.commentsOpen = this.openComments
      if (this.commentsOpen && this.post) void this.#loadComments()
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

  async #loadComments() {
    const post = this.post
    if (!post) return
    try {
      const page = await this.client.rest.comments(post.id, { limit: 50 })
      if (this.post?.id === post.id) this.comments = page.items
    } catch (error) {
      this.#fail(error)
    }
  }

  #toggleComments() {
    this.commentsOpen = !this.commentsOpen
    if (this.commentsOpen) {
      if (this.comments === undefined) void this.#loadComments()
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>("#comment-text")?.focus())
    }
  }

  async #submitComment(event: SubmitEvent) {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const input = form.querySelector("input")!
    const text = input.value.trim()
    const post = this.post
    if (!post || text === "") return
    input.disabled = true
    try {
      const comment = await this.client.rest.comment(post.id, text)
      this.comments = [...(this.comments ?? []), comment]
      this.#change({ ...post, counts: { ...post.counts, comments: post.counts.comments + 1 } })
      input.value = ""
    } catch (error) {
      this.#fail(error)
    } finally {
      input.disabled = false
      input.focus()
    }
  }

  async #deleteComment(comment: Comment) {
    try {
      await this.client.rest.deleteComment(comment.id)
      this.comments = (this.comments ?? []).filter((c) => c.id !== comment.id)
      const post = this.post
      if (post) this.#change({ ...post, counts: { ...post.counts, comments: Math.max(0, post.counts.comments - 1) } })
    } catch (error) {
      this.#fail(error)
    }
  }

  #media(post: Post) {
    const url = (p: string) => this.client.rest.url(p)
    const ratio = post.width && post.height ? `${post.width} / ${post.height}` : "4 / 5"
    if (post.status !== "published" || !post.variants) {
      return html`<div class="processing" part="image">${post.status === "failed" ? "This photo could not be processed." : "Processing…"}</div>`
    }
    const placeholder = post.placeholder ? `background-image:url("${post.placeholder}");` : ""
    const color = post.dominantColor ? `background-color:${post.dominantColor};` : ""
    return html`<div class="media" style="aspect-ratio:${ratio};${placeholder}${color}">
      <img
        part="image"
        class=${this.loaded ? "loaded" : ""}
        src=${url(post.variants.medium)}
        srcset=${srcset(post.variants, url)}
        sizes="(max-width: 640px) 100vw, 640px"
        alt=${post.altText || `Photo by ${post.author.username}`}
        width=${post.width ?? 1080}
        height=${post.height ?? 1350}
        loading="lazy"
        decoding="async"
        @load=${() => (this.loaded = true)}
      />
    </div>`
  }

  #comments(post: Post) {
    if (!this.commentsOpen) return nothing
    const me = this.client.me
    return html`<section class="comments" part="comments" aria-label="Comments">
      ${this.comments === undefined
        ? html`<p class="muted">Loading comments…</p>`
        : html`<ul>
          ${this.comments.map(
            (c) => html`<li>
              <a href=${this.client.rest.pageUrl(`/u/${c.author.username}`)}>${c.author.username}</a>
              <span>${c.text}</span>
              ${me && (me.id === c.author.id || me.id === post.author.id)
                ? html`<button type="button" aria-label="Delete comment by ${c.author.username}" @click=${() => this.#deleteComment(c)}>Delete</button>`
                : nothing}
            </li>`
          )}
        </ul>`}
      ${me
        ? html`<form @submit=${this.#submitComment}>
          <label class="visually-hidden" for="comment-text">Add a comment</label>
          <input id="comment-text" name="text" placeholder="Add a comment…" maxlength="2200" autocomplete="off" />
          <button type="submit">Post</button>
        </form>`
        : nothing}
    </section>`
  }

  override render() {
    const post = this.post
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
      </header>
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
        ${this.#comments(post)}
      </div>
    </article>`
  }
}
