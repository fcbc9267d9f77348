import { html, nothing, type PropertyValues } from "lit"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { gridStyles } from "../shared/grid.styles.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./saved.styles.ts"

/**
 * @summary The signed-in account's saved posts, most recently saved first, as a grid of photos
 * that open the post; a page at a time.
 *
 * @csspart grid - The grid of saved posts.
 *
 * @cssprop --ap-grid-gap - Space between grid tiles (default 4px).
 *
 * @fires ap-error - Loading failed.
 */
export class ApSaved extends ApElement {
  static override styles = [theme, gridStyles, styles]
  static override properties = {
    ...ApElement.properties,
    posts: { state: true },
    loaded: { state: true },
    hasMore: { state: true },
    error: { state: true }
  }

  declare posts: ReadonlyArray<Post>
  declare loaded: boolean
  declare hasMore: boolean
  declare error: string
  #cursor: string | null = null

  constructor() {
    super()
    this.posts = []
    this.loaded = false
    this.hasMore = false
    this.error = ""
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.hasUpdated || changed.has("api") || changed.has("token")) void this.load()
  }

  async load(more = false): Promise<void> {
    this.error = ""
    if (!more) this.#cursor = null
    try {
      const page = await this.client.rest.saved({ cursor: this.#cursor, limit: 24 })
      const fresh = page.items.filter((p) => p.status === "published")
      this.posts = more ? [...this.posts, ...fresh.filter((f) => !this.posts.some((p) => p.id === f.id))] : fresh
      this.#cursor = page.nextCursor
      this.hasMore = page.hasMore
    } catch (error) {
      this.error = describeError(error)
      this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
    } finally {
      this.loaded = true
    }
  }

  override render() {
    if (!this.loaded) return html`<ul class="grid skeleton" aria-busy="true" aria-label="Loading saved posts">${[0, 1, 2, 3, 4, 5].map(() => html`<li><span></span></li>`)}</ul>`
    return html`
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      ${this.posts.length === 0 && !this.error
        ? html`<p class="empty muted">Nothing saved yet. Tap the bookmark on a post to keep it here. <a href=${this.client.rest.pageUrl("/")}>Back to your feed</a></p>`
        : html`<ul class="grid" part="grid" aria-label="Saved posts">
          ${this.posts.map((post) => html`<li>
            <a href=${this.client.rest.pageUrl(`/p/${post.id}`)} style=${post.placeholder ? `background-image:url("${post.placeholder}")` : ""}>
              ${post.variants
                ? html`<img src=${this.client.rest.url(post.variants.small)} alt=${post.altText || `Photo by ${post.author.username}`} loading="lazy" />`
                : html`<span class="visually-hidden">Post by ${post.author.username}</span>`}
            </a>
          </li>`)}
        </ul>`}
      ${this.hasMore ? html`<p class="more"><button @click=${() => this.load(true)}>Show more</button></p>` : nothing}
    `
  }
}
