import { html, nothing } from "lit"
import type { Notification } from "../../src/domain/Notifications.ts"
import { describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { timeAgo } from "../shared/format.ts"
import { bell } from "../shared/icons.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./notifications.styles.ts"

const VERBS: Record<Notification["kind"], string> = {
  like: "liked your post",
  comment: "commented:",
  follow: "started following you",
  follow_request: "asked to follow you",
  follow_approved: "approved your follow request",
  mention: "mentioned you:"
}

/** "alice", "alice and bob", "alice and 3 others". */
export const describeActors = (n: Notification): string => {
  const first = n.actors[0]?.username ?? "Someone"
  const others = n.actorCount - 1
  if (others <= 0) return first
  if (others === 1 && n.actors[1]) return `${first} and ${n.actors[1].username}`
  return `${first} and ${others} others`
}

/**
 * @summary Notifications, live: a list (default) or just a bell with the unread badge
 * (`variant="badge"`). Both update as `notification` frames arrive.
 *
 * @attr variant - `list` (default) or `badge`.
 * @attr href - Where the badge links to (default `/notifications`).
 *
 * @csspart badge - The unread count.
 * @csspart list - The list of notifications.
 * @csspart item - One notification.
 * @csspart mark-read - The "mark all as read" button.
 *
 * @cssprop --ap-like - Badge colour.
 *
 * @fires ap-unread - The unread count changed.
 * @fires ap-error - Loading or marking read failed.
 */
export class ApNotifications extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    variant: { type: String, reflect: true },
    href: { type: String },
    items: { state: true },
    unreadCount: { state: true },
    loaded: { state: true },
    error: { state: true }
  }

  declare variant: "list" | "badge"
  declare href: string
  declare items: ReadonlyArray<Notification>
  declare unreadCount: number
  declare loaded: boolean
  declare error: string

  constructor() {
    super()
    this.variant = "list"
    this.href = "/notifications"
    this.items = []
    this.unreadCount = 0
    this.loaded = false
    this.error = ""
    new LiveController(this, {
      notification: (frame) => {
        const n = frame.payload.notification as Notification
        if (n && typeof n === "object" && "id" in n) this.items = [n, ...this.items.filter((i) => i.id !== n.id)]
        this.#setUnread(frame.payload.unreadCount)
      },
      resumed: (frame) => {
        if (!frame.payload.complete) void this.load()
      },
      // read in another tab or device
      frame: (frame) => {
        if (frame.type === "notifications_read") this.#setUnread((frame.payload as { unreadCount: number }).unreadCount)
      }
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    if (!this.loaded) void this.load()
  }

  #setUnread(count: number) {
    if (count === this.unreadCount) return
    this.unreadCount = count
    this.emit("ap-unread", { unreadCount: count })
  }

  async load(): Promise<void> {
    try {
      const me = await this.client.session()
      if (!me) return
      const page = await this.client.rest.notifications({ limit: this.variant === "badge" ? 1 : 30 })
      this.items = page.items
      this.#setUnread(page.unreadCount)
      this.loaded = true
    } catch (error) {
      this.error = describeError(error)
      this.emit("ap-error", { message: this.error })
    }
  }

  async markAllRead(): Promise<void> {
    try {
      const { unreadCount } = await this.client.rest.markRead()
      this.items = this.items.map((n) => (n.read ? n : { ...n, read: true }))
      this.#setUnread(unreadCount)
    } catch (error) {
      this.error = describeError(error)
      this.emit("ap-error", { message: this.error })
    }
  }

  #badge() {
    const label = this.unreadCount === 0 ? "Notifications" : `Notifications, ${this.unreadCount} unread`
    return html`<a class="bell" href=${this.client.rest.pageUrl(this.href)} aria-label=${label}>
      ${bell()}
      ${this.unreadCount > 0 ? html`<span class="badge" part="badge" aria-hidden="true">${this.unreadCount > 99 ? "99+" : this.unreadCount}</span>` : nothing}
    </a>`
  }

  override render() {
    if (this.variant === "badge") return this.#badge()
    return html`
      <div class="bar">
        <span aria-live="polite">${this.unreadCount > 0 ? html`<span class="badge" part="badge">${this.unreadCount}</span> unread` : "All caught up"}</span>
        <button part="mark-read" ?disabled=${this.unreadCount === 0} @click=${() => this.markAllRead()}>Mark all as read</button>
      </div>
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      ${this.loaded && this.items.length === 0 ? html`<p class="muted">No notifications yet.</p>` : nothing}
      <ul part="list" aria-label="Notifications">
        ${this.items.map(
          (n) => html`<li part="item" class=${n.read ? "" : "unread"}>
            <span class="text">
              ${n.read ? nothing : html`<span class="visually-hidden">Unread: </span>`}
              <a href=${this.client.rest.pageUrl(`/u/${n.actors[0]?.username ?? ""}`)}>${describeActors(n)}</a>
              ${VERBS[n.kind]} ${n.text ? html`<q>${n.text}</q>` : nothing}
              <time datetime=${n.updatedAt}>${timeAgo(n.updatedAt)}</time>
            </span>
            ${n.post?.thumbnail
              ? html`<a href=${this.client.rest.pageUrl(`/p/${n.post.id}`)}><img src=${this.client.rest.url(n.post.thumbnail)} alt="Your post" /></a>`
              : nothing}
          </li>`
        )}
      </ul>
    `
  }
}
