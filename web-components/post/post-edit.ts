/**
 * The author's editor of a post, loaded only when its "…" button is first used (so `<ap-post>`
 * alone stays small): the caption, each photo's alt text, copy the link, and delete with a
 * confirmation step.
 */
import { css, html, nothing } from "lit"
import type { Post } from "../../src/domain/Posts.ts"
import { describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { theme } from "../shared/theme.ts"

/**
 * @summary Edit or delete one's own post (inside `<ap-post>`).
 * @fires ap-post-change - The edit was saved.
 * @fires ap-post-delete - The post was deleted.
 * @fires ap-edit-close - Closed without a change (Cancel, Escape) or after saving.
 */
export class ApPostEdit extends ApElement {
  static override styles = [theme, css`
    form { display: grid; gap: 0.6em; padding: 0.6em 0.9em; border-top: 1px solid var(--_border); }
    label { display: grid; gap: 0.25em; }
    textarea, input { font: inherit; width: 100%; box-sizing: border-box; }
    .row { display: flex; flex-wrap: wrap; gap: 0.5em; }
    .danger { color: var(--_danger, #b00020); }
    [role="alert"]:empty { display: none; }
  `]
  static override properties = {
    ...ApElement.properties,
    post: { attribute: false },
    confirming: { state: true },
    busy: { state: true },
    error: { state: true },
    note: { state: true }
  }

  declare post: Post
  declare confirming: boolean
  declare busy: boolean
  declare error: string
  declare note: string

  constructor() {
    super()
    this.confirming = false
    this.busy = false
    this.error = ""
    this.note = ""
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector("textarea")?.focus()
  }

  #close() {
    this.dispatchEvent(new CustomEvent("ap-edit-close", { bubbles: true, composed: true }))
  }

  async #save(event: SubmitEvent) {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    this.busy = true
    this.error = ""
    try {
      const post = await this.client.rest.updatePost(this.post.id, {
        caption: String(data.get("caption") ?? ""),
        altTexts: data.getAll("alt").map(String)
      })
      this.emit("ap-post-change", { post })
      this.#close()
    } catch (error) {
      this.error = `Couldn't save your changes. ${describeError(error)}`
    } finally {
      this.busy = false
    }
  }

  async #delete() {
    this.busy = true
    this.error = ""
    try {
      await this.client.rest.deletePost(this.post.id)
      this.emit("ap-post-delete", { postId: this.post.id })
    } catch (error) {
      this.error = `Couldn't delete this post. ${describeError(error)}`
      this.confirming = false
    } finally {
      this.busy = false
    }
  }

  async #copy() {
    const link = new URL(this.client.rest.pageUrl(`/p/${this.post.id}`), location.href).href
    try {
      await navigator.clipboard.writeText(link)
      this.note = "Link copied."
    } catch {
      this.note = link
    }
  }

  override render() {
    const post = this.post
    const photos = post.media?.length ? post.media : [post]
    return html`<form aria-label="Edit post" @submit=${this.#save} @keydown=${(e: KeyboardEvent) => e.key === "Escape" && this.#close()}>
      <label>Caption <textarea name="caption" rows="3" maxlength="2200" .value=${post.caption}></textarea></label>
      ${photos.map((m, i) => html`<label>Alt text${photos.length > 1 ? ` for photo ${i + 1}` : ""}
        <input name="alt" maxlength="1000" .value=${m.altText} /></label>`)}
      <div role="alert" class="error">${this.error}</div>
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.busy}>Save</button>
        <button type="button" @click=${this.#close}>Cancel</button>
        <button type="button" @click=${this.#copy}>Copy link</button>
        ${this.confirming
          ? html`<span role="group" aria-label="Delete this post?">Delete this post for good?
            <button type="button" class="danger" ?disabled=${this.busy} @click=${this.#delete}>Yes, delete</button>
            <button type="button" @click=${() => (this.confirming = false)}>Keep it</button></span>`
          : html`<button type="button" class="danger" @click=${() => (this.confirming = true)}>Delete post…</button>`}
      </div>
      <p role="status" aria-live="polite">${this.note || nothing}</p>
    </form>`
  }
}

if (!customElements.get("ap-post-edit")) customElements.define("ap-post-edit", ApPostEdit)
