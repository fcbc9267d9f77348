import { virtualize } from "@lit-labs/virtualizer/virtualize.js"
import { html, nothing } from "lit"
import type { Post } from "../../src/domain/Posts.ts"
import { describeError } from "../sdk/rest.ts"
import type { ApEvent } from "../shared/events.ts"
import { ApElement } from "../shared/base.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import "../post/post.ts"
import { styles } from "./feed.styles.ts"

/** How stale the feed may be before a tab that becomes visible again refreshes it. */
const REFRESH_AFTER_MS = 30_000

/**
 * @summary The signed-in person's home feed: virtualized infinite scroll of `<ap-post>` cards.
 *
 * Only the cards near the viewport are in the DOM (`@lit-labs/virtualizer`), so scrolling
 * through hundreds of posts keeps the page light. A "new posts" pill appears when `feed_new`
 * frames arrive; the feed refreshes when the tab becomes visible after a while; likes and saves
 * are optimistic and roll back with a visible message on the card when they fail; like counts of
 * the viewer's own posts follow `like` frames.
 *
 * @attr page-size - Posts per request (1–50, default 20).
 *
 * @csspart pill - The "new posts" button.
 * @csspart status - Loading, empty and end-of-feed messages.
 * @csspart toast - The message shown when an action failed.
 *
 * @cssprop --ap-feed-gap - Space between posts (default 16px).
 * @cssprop --ap-feed-pill-top - Where the sticky pill sits (default 12px).
 *
 * @fires ap-error - Loading the feed failed (actions on posts fire their own).
 */
export class ApFeed extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    pageSize: { type: Number, attribute: "page-size" },
    items: { state: true },
    loading: { state: true },
    hasMore: { state: true },
    newCount: { state: true },
    message: { state: true },
    signedOut: { state: true }
  }

  declare pageSize: number
  declare items: Array<Post>
  declare loading: boolean
  declare hasMore: boolean
  declare newCount: number
  declare message: string
  declare signedOut: boolean
  #cursor: string | null = null
  #loadedAt = 0
  #generation = 0

  constructor() {
    super()
    this.pageSize = 20
    this.items = []
    this.loading = false
    this.hasMore = true
    this.newCount = 0
    this.message = ""
    this.signedOut = false
    new LiveController(this, {
      feed_new: (frame) => {
        this.newCount += Math.max(1, frame.payload.count)
      },
      // someone liked one of the viewer's own posts: keep its count live
      like: (frame) => {
        const i = this.items.findIndex((p) => p.id === frame.payload.postId)
        if (i < 0) return
        const items = [...this.items]
        items[i] = { ...items[i]!, counts: { ...items[i]!.counts, likes: frame.payload.likes } }
        this.items = items
      },
      // the server no longer held what we missed while disconnected: start again from the top
      resumed: (frame) => {
        if (!frame.payload.complete) void this.refresh()
      }
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    document.addEventListener("visibilitychange", this.#onVisibility)
    if (this.items.length === 0) void this.refresh()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    document.removeEventListener("visibilitychange", this.#onVisibility)
  }

  #onVisibility = () => {
    if (document.visibilityState === "visible" && Date.now() - this.#loadedAt > REFRESH_AFTER_MS) void this.refresh()
  }

  /** Reloads from the newest post (the pill's action). */
  async refresh(): Promise<void> {
    const generation = ++this.#generation
    this.loading = true
    try {
      const page = await this.client.rest.feed({ limit: this.pageSize })
      if (generation !== this.#generation) return
      this.items = [...page.items]
      this.#cursor = page.nextCursor
      this.hasMore = page.hasMore
      this.newCount = 0
      this.signedOut = false
      this.#loadedAt = Date.now()
    } catch (error) {
      if (generation !== this.#generation) return
      if ((error as { status?: number }).status === 401) this.signedOut = true
      else this.#showError(error)
    } finally {
      if (generation === this.#generation) this.loading = false
    }
  }

  async loadMore(): Promise<void> {
    if (this.loading || !this.hasMore || this.#cursor === null) return
    const generation = this.#generation
    this.loading = true
    try {
      const page = await this.client.rest.feed({ cursor: this.#cursor, limit: this.pageSize })
      if (generation !== this.#generation) return
      const known = new Set(this.items.map((p) => p.id))
      this.items = [...this.items, ...page.items.filter((p) => !known.has(p.id))]
      this.#cursor = page.nextCursor
      this.hasMore = page.hasMore
    } catch (error) {
      if (generation === this.#generation) this.#showError(error)
    } finally {
      if (generation === this.#generation) this.loading = false
    }
  }

  #showError(error: unknown) {
    this.message = describeError(error)
    this.emit("ap-error", { message: this.message })
  }

  async #showNew() {
    await this.refresh()
    this.scrollIntoView({ block: "start" })
    await this.updateComplete
    this.renderRoot.querySelector<HTMLElement>("ap-post")?.focus()
  }

  #onPostChange = (event: ApEvent<"ap-post-change">) => {
    const post = event.detail.post
    const i = this.items.findIndex((p) => p.id === post.id)
    if (i < 0) return
    const items = [...this.items]
    items[i] = post
    this.items = items
  }

  #onRange = (event: Event) => {
    const last = (event as Event & { last: number }).last
    if (last >= this.items.length - 5) void this.loadMore()
  }

  override render() {
    if (this.signedOut) return html`<p class="status" part="status">Log in to see your feed.</p>`
    return html`
      ${this.newCount > 0
        ? html`<button class="pill" part="pill" @click=${this.#showNew}>
          ${this.newCount === 1 ? "1 new post" : `${this.newCount} new posts`} ↑
        </button>`
        : nothing}
      <div
        class="list"
        role="feed"
        aria-label="Home feed"
        aria-busy=${this.loading ? "true" : "false"}
        @ap-post-change=${this.#onPostChange}
        @rangeChanged=${this.#onRange}
      >
        ${virtualize({
          items: this.items,
          keyFunction: (post: Post) => post.id,
          renderItem: (post: Post, index: number) =>
            html`<ap-post .post=${post} .client=${this.client} theme=${this.theme ?? nothing} tabindex="-1" aria-posinset=${index + 1} aria-setsize=${this.hasMore ? -1 : this.items.length}></ap-post>`
        })}
      </div>
      ${this.loading ? html`<p class="status" part="status">Loading…</p>` : nothing}
      ${!this.loading && this.items.length === 0 && !this.message
        ? html`<p class="status" part="status">Your feed is empty. Follow people to see their photos here.</p>`
        : nothing}
      ${!this.loading && !this.hasMore && this.items.length > 0 ? html`<p class="status" part="status">You're all caught up.</p>` : nothing}
      ${this.hasMore && !this.loading && this.items.length > 0
        ? html`<p class="status"><button @click=${() => this.loadMore()}>Load more</button></p>`
        : nothing}
      ${this.message
        ? html`<div class="toast" part="toast" role="alert">
          <span>${this.message}</span>
          <button @click=${() => (this.message = "")} aria-label="Dismiss message">Dismiss</button>
        </div>`
        : nothing}
    `
  }
}
