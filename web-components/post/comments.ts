/**
 * A post's comment thread, loaded only when someone first opens the comments (so `<ap-post>`
 * alone stays within its budget): the list, the form, and deleting one's own comments or any
 * comment on one's own post.
 */
import { css, html, nothing } from "lit"
import type { Comment } from "../../src/domain/Engagement.ts"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { theme } from "../shared/theme.ts"

/**
 * @summary The comment thread of one post (inside `<ap-post>`).
 * @fires ap-post-change - A comment was added or deleted: the post with its new count.
 * @fires ap-error - Loading, posting or deleting failed; the thread shows the message too.
 */
export class ApComments extends ApElement {
  static override styles = [
    theme,
    css`
      ul { list-style: none; padding: 0; margin: 0.5em 0; }
      li { padding: 0.25em 0; overflow-wrap: anywhere; }
      li a { color: inherit; font-weight: 600; margin-right: 0.3em; }
      li button { font-size: 0.8em; min-height: 32px; padding: 0.1em 0.6em; margin-left: 0.4em; }
      form { display: flex; gap: 0.4em; }
      input { flex: 1; min-width: 0; }
      .muted { color: var(--_muted); font-size: 0.85em; }
      [role="alert"]:empty { display: none; }
    `
  ]
  static override properties = {
    ...ApElement.properties,
    post: { attribute: false },
    comments: { state: true },
    error: { state: true }
  }

  declare post: Post | undefined
  declare comments: ReadonlyArray<Comment> | undefined
  declare error: string
  #loadedFor: string | undefined

  constructor() {
    super()
    this.error = ""
  }

  protected override willUpdate(): void {
    // the same element may be handed another post (a virtualized feed reuses its cards)
    if (this.post && this.post.id !== this.#loadedFor) {
      this.#loadedFor = this.post.id
      this.comments = undefined
      this.error = ""
      void this.#load(this.post.id)
    }
  }

  /** Focuses the comment field (when the thread was opened by its button). */
  override focus(options?: FocusOptions): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>("#comment-text")?.focus(options))
  }

  async #load(id: string) {
    try {
      const page = await this.client.rest.comments(id, { limit: 50 })
      if (this.post?.id === id) this.comments = page.items
    } catch (error) {
      this.#fail(error)
    }
  }

  #fail(error: unknown) {
    this.error = describeError(error)
    this.emit("ap-error", {
      message: this.error,
      status: error instanceof ApiError ? error.status : undefined,
      code: error instanceof ApiError ? error.code : undefined
    })
  }

  #count(by: number) {
    const post = this.post
    if (!post) return
    this.post = { ...post, counts: { ...post.counts, comments: Math.max(0, post.counts.comments + by) } }
    this.emit("ap-post-change", { post: this.post })
  }

  async #submit(event: SubmitEvent) {
    event.preventDefault()
    const input = (event.target as HTMLFormElement).querySelector("input")!
    const text = input.value.trim()
    const post = this.post
    if (!post || text === "") return
    input.disabled = true
    this.error = ""
    try {
      const comment = await this.client.rest.comment(post.id, text)
      this.comments = [...(this.comments ?? []), comment]
      this.#count(1)
      input.value = ""
    } catch (error) {
      this.#fail(error)
    } finally {
      input.disabled = false
      input.focus()
    }
  }

  async #delete(comment: Comment) {
    this.error = ""
    try {
      await this.client.rest.deleteComment(comment.id)
      this.comments = (this.comments ?? []).filter((c) => c.id !== comment.id)
      this.#count(-1)
    } catch (error) {
      this.#fail(error)
    }
  }

  override render() {
    const post = this.post
    if (!post) return nothing
    const me = this.client.me
    return html`<section aria-label="Comments">
      ${this.comments === undefined
        ? html`<p class="muted">Loading comments…</p>`
        : html`<ul>
          ${this.comments.map(
            (c) => html`<li>
              <a href=${this.client.rest.pageUrl(`/u/${c.author.username}`)}>${c.author.username}</a>
              <span>${c.text}</span>
              ${me && (me.id === c.author.id || me.id === post.author.id)
                ? html`<button type="button" aria-label="Delete comment by ${c.author.username}" @click=${() => this.#delete(c)}>Delete</button>`
                : nothing}
            </li>`
          )}
        </ul>`}
      <div role="alert" class="error">${this.error}</div>
      ${me
        ? html`<form @submit=${this.#submit}>
          <label class="visually-hidden" for="comment-text">Add a comment</label>
          <input id="comment-text" name="text" placeholder="Add a comment…" maxlength="2200" autocomplete="off" />
          <button type="submit">Post</button>
        </form>`
        : nothing}
    </section>`
  }
}

if (!customElements.get("ap-comments")) customElements.define("ap-comments", ApComments)

declare global {
  interface HTMLElementTagNameMap {
    "ap-comments": ApComments
  }
}
