import { flow } from "@lit-labs/virtualizer/layouts/flow.js"
import { virtualize } from "@lit-labs/virtualizer/virtualize.js"
import { html, nothing } from "lit"
import type { Post } from "../../src/domain/Posts.ts"
import type { ApertureClient } from "../sdk/client.ts"
import { describeError } from "../sdk/rest.ts"
import type { ApEvent } from "../shared/events.ts"
import { ApElement } from "../shared/base.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import type { ApPost } from "../post/post.component.ts"
import "../post/post.ts"
import { styles } from "./feed.styles.ts"

/** How stale the feed may be before a tab that becomes visible again refreshes it. */
const REFRESH_AFTER_MS = 30_000
/** The live pill's count changes are announced (aria-live) at most this often. */
const ANNOUNCE_EVERY_MS = 4_000

/** What a feed had loaded, kept for the page's lifetime so Back to the feed shows the same posts. */
interface Snapshot {
  /** Whose feed it is: a log-out and log-in as someone else on the same client never shows the first one's. */
  readonly userId: string
  readonly items: Array<Post>
  readonly cursor: string | null
  readonly hasMore: boolean
  readonly loadedAt: number
}
const snapshots = new WeakMap<ApertureClient, Snapshot>()
const FLOW = flow({ direction: "vertical" })

/**
 * Posts changed while no feed was on the page (a like on the post page, then Back): applied to a
 * kept snapshot when it is shown again. Cards inside a feed update its list directly as well.
 */
const changedElsewhere = new Map<string, Post>()
const deletedElsewhere = new Set<string>()
if (typeof document !== "undefined") {
  document.addEventListener("ap-post-change", (event) => {
    const post = (event as ApEvent<"ap-post-change">).detail.post
    changedElsewhere.set(post.id, post)
  })
  document.addEventListener("ap-post-delete", (event) => void deletedElsewhere.add(event.detail.postId))
}

/** At most this many posts are written to sessionStorage for a Back that reloads the document. */
const STORED_POSTS = 100

/** Whether this document was reached through Back or Forward (then a stored snapshot may be used once). */
let storedSnapshotUsable = typeof performance !== "undefined" &&
  (performance.getEntriesByType?.("navigation")[0] as PerformanceNavigationTiming | undefined)?.type === "back_forward"

const storageKey = (api: string | undefined) => `ap-feed:${api ?? ""}`

const readStored = (api: string | undefined): Snapshot | undefined => {
  if (!storedSnapshotUsable) return undefined
  storedSnapshotUsable = false
  try {
    const raw = sessionStorage.getItem(storageKey(api))
    return raw ? (JSON.parse(raw) as Snapshot) : undefined
  } catch {
    return undefined
  }
}

const writeStored = (api: string | undefined, snapshot: Snapshot) => {
  try {
    const items = snapshot.items.slice(0, STORED_POSTS)
    const hasMore = snapshot.hasMore || items.length < snapshot.items.length
    // a cut list can only go on from the top again: no cursor into the middle
    const cursor = items.length < snapshot.items.length ? null : snapshot.cursor
    sessionStorage.setItem(storageKey(api), JSON.stringify({ ...snapshot, items, hasMore, cursor }))
  } catch {
    // storage full or unavailable: Back within the page still has the in-memory copy
  }
}

/**
 * @summary The signed-in person's home feed: virtualized infinite scroll of `<ap-post>` cards.
 *
 * Only the cards near the viewport are in the DOM (`@lit-labs/virtualizer`), so scrolling
 * through hundreds of posts keeps the page light. A "new posts" pill appears when `feed_new`
 * frames arrive; the feed refreshes when the tab becomes visible after a while; likes and saves
 * are optimistic and roll back with a visible message on the card when they fail; like counts of
 * the viewer's own posts follow `like` frames.
 *
 * The WAI-ARIA feed pattern: `role=feed` (busy while a page loads) whose articles are the cards'
 * own, numbered with `aria-posinset` / `aria-setsize`; every control inside them is in the Tab
 * order, and PageDown / PageUp move focus to the next or previous article. The pill sits in a
 * polite live region whose count changes at most every few seconds. What was loaded is kept in
 * memory (and in sessionStorage, for a Back that reloads the document), so coming back (the app
 * restores the scroll offset on Back) shows the same posts while a background check only counts
 * what is new.
 *
 * @attr page-size - Posts per request (1–50, default 20).
 *
 * @csspart pill - The "new posts" button.
 * @csspart status - Loading, empty and end-of-feed messages.
 * @csspart cta - The empty feed's "Find people to follow" link (to search).
 * @csspart toast - The message shown when an action failed.
 *
 * @cssprop --ap-feed-gap - Space between posts (default 16px).
 * @cssprop --ap-feed-pill-top - Where the sticky pill sits below `--ap-feed-offset-top` (default 12px).
 * @cssprop --ap-feed-offset-top - Height of whatever is sticky above the feed (the app's header sets it), so the pill and
 *   scrolled-to posts stay clear of it (default 0px).
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
    shownCount: { state: true },
    message: { state: true },
    signedOut: { state: true }
  }

  declare pageSize: number
  declare items: Array<Post>
  declare loading: boolean
  declare hasMore: boolean
  declare newCount: number
  /** The count the pill shows: `newCount`, updated at most every ANNOUNCE_EVERY_MS so screen readers are not flooded. */
  declare shownCount: number
  declare message: string
  declare signedOut: boolean
  #cursor: string | null = null
  #loadedAt = 0
  #generation = 0
  #announcedAt = 0
  #announceTimer: ReturnType<typeof setTimeout> | undefined

  constructor() {
    super()
    this.pageSize = 20
    this.items = []
    this.loading = false
    this.hasMore = true
    this.newCount = 0
    this.shownCount = 0
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
    if (this.items.length > 0) return
    const kept = snapshots.get(this.client) ?? readStored(this.api)
    if (kept && kept.userId === this.client.me?.id && kept.items.length > 0) {
      this.items = kept.items.filter((p) => !deletedElsewhere.has(p.id)).map((p) => changedElsewhere.get(p.id) ?? p)
      changedElsewhere.clear()
      deletedElsewhere.clear()
      this.#cursor = kept.cursor
      this.hasMore = kept.hasMore
      this.#loadedAt = kept.loadedAt
      void this.#countNew()
    } else void this.refresh()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    document.removeEventListener("visibilitychange", this.#onVisibility)
    clearTimeout(this.#announceTimer)
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has("newCount")) this.#schedulePill()
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    const userId = this.client.me?.id
    if (userId !== undefined && (changed.has("items") || changed.has("hasMore")) && this.items.length > 0) {
      const snapshot = { userId, items: this.items, cursor: this.#cursor, hasMore: this.hasMore, loadedAt: this.#loadedAt }
      snapshots.set(this.client, snapshot)
      writeStored(this.api, snapshot)
      // this list is now the newest word on its posts (its own cards' changes included)
      changedElsewhere.clear()
    }
  }

  /** The first count shows at once; later ones wait until ANNOUNCE_EVERY_MS has passed since the last. */
  #schedulePill() {
    clearTimeout(this.#announceTimer)
    const show = () => {
      this.shownCount = this.newCount
      this.#announcedAt = Date.now()
    }
    if (this.newCount === 0 || this.shownCount === 0) return show()
    const wait = this.#announcedAt + ANNOUNCE_EVERY_MS - Date.now()
    if (wait <= 0) show()
    else this.#announceTimer = setTimeout(show, wait)
  }

  /** Back on a kept feed: how many posts arrived above the first one shown, for the pill. */
  async #countNew() {
    const generation = this.#generation
    try {
      const page = await this.client.rest.feed({ limit: this.pageSize })
      if (generation !== this.#generation || this.items.length === 0) return
      const newest = this.items[0]!.id
      const above = page.items.findIndex((p) => p.id === newest)
      const count = above < 0 ? page.items.length : above
      if (count > this.newCount) this.newCount = count
      // the kept copies of posts on that page may be stale (counts, the viewer's like and save)
      const fresh = new Map(page.items.map((p) => [p.id, p]))
      if (this.items.some((p) => fresh.has(p.id))) this.items = this.items.map((p) => fresh.get(p.id) ?? p)
    } catch {
      // the pill is a nicety: the kept posts are shown either way
    }
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
    await this.updateComplete
    // the newest post is at the feed's top (scroll-margin-top keeps it clear of the sticky header);
    // the virtualizer re-lays out over a few frames and may move the page to keep its old anchor,
    // so scroll until the first card stays put
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve))
    let last = Number.NaN
    for (let i = 0; i < 20; i++) {
      const first = Array.from(this.renderRoot.querySelectorAll("ap-post")).find((p) => p.posinset === 1)
      ;(first ?? this).scrollIntoView({ block: "start" })
      await frame()
      const top = first?.getBoundingClientRect().top ?? Number.NaN
      if (first && Math.abs(top - last) < 1) break
      last = top
    }
    Array.from(this.renderRoot.querySelectorAll("ap-post")).find((p) => p.posinset === 1)?.focus({ preventScroll: true })
  }

  /** PageDown / PageUp from anywhere inside an article move focus to the next / previous one. */
  #onKeydown = (event: KeyboardEvent) => {
    if (event.key !== "PageDown" && event.key !== "PageUp") return
    const posts = Array.from(this.renderRoot.querySelectorAll("ap-post"))
    const current = event.composedPath().find((n): n is ApPost => posts.includes(n as ApPost))
    if (!current) return
    const target = (current.posinset ?? 0) + (event.key === "PageDown" ? 1 : -1)
    const next = posts.find((p) => p.posinset === target)
    if (!next) return
    event.preventDefault()
    next.focus()
    if (event.key === "PageDown" && target >= this.items.length - 2) void this.loadMore()
  }

  #onPostChange = (event: ApEvent<"ap-post-change">) => {
    const post = event.detail.post
    const i = this.items.findIndex((p) => p.id === post.id)
    if (i < 0) return
    const items = [...this.items]
    items[i] = post
    this.items = items
  }

  #onPostDelete = (event: ApEvent<"ap-post-delete">) => {
    this.items = this.items.filter((p) => p.id !== event.detail.postId)
  }

  #onRange = (event: Event) => {
    const last = (event as Event & { last: number }).last
    if (last >= this.items.length - 5) void this.loadMore()
  }

  override render() {
    if (this.signedOut) return html`<p class="status" part="status">Log in to see your feed.</p>`
    const shown = this.newCount > 0 ? Math.max(1, this.shownCount) : 0
    return html`
      <div class="pill-bar" aria-live="polite" aria-atomic="true">
        ${shown > 0
          ? html`<button class="pill" part="pill" @click=${this.#showNew}>
            ${shown === 1 ? "1 new post" : `${shown} new posts`} <span aria-hidden="true">↑</span>
          </button>`
          : nothing}
      </div>
      <div
        class="list"
        role="feed"
        aria-label="Home feed"
        aria-busy=${this.loading ? "true" : "false"}
        @ap-post-change=${this.#onPostChange}
        @ap-post-delete=${this.#onPostDelete}
        @rangeChanged=${this.#onRange}
        @keydown=${this.#onKeydown}
      >
        ${virtualize({
          // named, not left to the default: the default layout is a chunk the virtualizer imports
          // only when it first renders, one round trip more before the first photo
          layout: FLOW,
          items: this.items,
          keyFunction: (post: Post) => post.id,
          renderItem: (post: Post, index: number) =>
            html`<ap-post .post=${post} .client=${this.client} theme=${this.theme ?? nothing} .posinset=${index + 1} .setsize=${this.hasMore ? -1 : this.items.length}></ap-post>`
        })}
      </div>
      ${this.loading
        ? html`<div class="skeletons" part="status">
          <span class="visually-hidden" role="status">Loading posts…</span>
          ${(this.items.length === 0 ? [0, 1] : [0]).map(() => html`<div class="skeleton" aria-hidden="true">
            <div class="skeleton-head"><span class="skeleton-avatar"></span><span class="skeleton-line"></span></div>
            <div class="skeleton-photo"></div>
            <span class="skeleton-line"></span>
          </div>`)}
        </div>`
        : nothing}
      ${!this.loading && this.items.length === 0 && !this.message
        ? html`<div class="status empty" part="status">
          <p>Your feed is empty. Follow people to see their photos here.</p>
          <a class="cta" part="cta" href=${this.client.rest.pageUrl("/search")}>Find people to follow</a>
        </div>`
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
