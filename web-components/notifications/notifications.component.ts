import { html, nothing } from "lit"
import type { Notification } from "../../src/domain/Notifications.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
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

interface Decision {
  readonly requestId: string
  readonly state: "pending" | "busy" | "approved" | "denied" | "gone"
  readonly error?: string
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
 * @attr label - A visible label after the badge's bell (e.g. "Activity" in a tab bar; part `label`).
 *
 * @csspart badge - The unread count.
 * @csspart list - The list of notifications.
 * @csspart item - One notification.
 * @csspart mark-read - The "mark all as read" button.
 * @csspart requests - Approve and Deny on a follow-request notification (per person still waiting).
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
    label: { type: String },
    items: { state: true },
    unreadCount: { state: true },
    loaded: { state: true },
    error: { state: true },
    requests: { state: true }
  }

  declare variant: "list" | "badge"
  declare href: string
  declare label: string | undefined
  declare items: ReadonlyArray<Notification>
  declare unreadCount: number
  declare loaded: boolean
  declare error: string
  /** Pending follow requests by requester id (request id, or what became of it), for Approve/Deny in place. */
  declare requests: ReadonlyMap<string, Decision>
  #requestsAsked = false

  constructor() {
    super()
    this.variant = "list"
    this.href = "/notifications"
    this.items = []
    this.unreadCount = 0
    this.loaded = false
    this.error = ""
    this.requests = new Map()
    new LiveController(this, {
      notification: (frame) => {
        const n = frame.payload.notification as Notification
        if (n && typeof n === "object" && "id" in n) {
          this.items = [n, ...this.items.filter((i) => i.id !== n.id)]
          if (n.kind === "follow_request") this.#askRequests(true)
        }
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
      if (this.variant !== "badge" && this.items.some((n) => n.kind === "follow_request")) this.#askRequests(false)
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

  /** The pending requests, so a follow-request notification can offer Approve and Deny per person. */
  #askRequests(again: boolean) {
    if (this.variant === "badge" || (this.#requestsAsked && !again)) return
    this.#requestsAsked = true
    this.client.rest.followRequests({ limit: 50 }).then(
      (page) => {
        const next = new Map(this.requests)
        for (const r of page.items) {
          const known = next.get(r.user.id)
          // a request decided here stays decided; a new one from the same person (after a deny) is offered again
          if (!known || (known.requestId !== r.id && known.state !== "busy")) next.set(r.user.id, { requestId: r.id, state: "pending" })
        }
        this.requests = next
      },
      () => undefined
    )
  }

  async #decide(userId: string, approve: boolean) {
    const entry = this.requests.get(userId)
    if (!entry || entry.state !== "pending") return
    const set = (state: Decision["state"], error = "") => (this.requests = new Map(this.requests).set(userId, { ...entry, state, error }))
    set("busy")
    try {
      if (approve) await this.client.rest.approveRequest(entry.requestId)
      else await this.client.rest.denyRequest(entry.requestId)
      set(approve ? "approved" : "denied")
    } catch (error) {
      // 404: someone (another tab) already decided, or the request was withdrawn
      if (error instanceof ApiError && error.status === 404) return set("gone")
      set("pending", describeError(error))
      this.emit("ap-error", { message: describeError(error) })
    }
  }

  #requestActions(n: Notification) {
    if (n.kind !== "follow_request") return nothing
    const rows = n.actors.flatMap((a) => {
      const d = this.requests.get(a.id)
      if (!d) return []
      const who = a.username
      const state = d.state === "approved"
        ? html`<span role="status">Approved: ${who} now follows you.</span>`
        : d.state === "denied"
          ? html`<span role="status">Denied ${who}'s request.</span>`
          : d.state === "gone"
            ? html`<span role="status">${who}'s request was already answered.</span>`
            : html`<button class="primary" ?disabled=${d.state === "busy"} @click=${() => this.#decide(a.id, true)} aria-label="Approve ${who}">Approve</button>
              <button ?disabled=${d.state === "busy"} @click=${() => this.#decide(a.id, false)} aria-label="Deny ${who}">Deny</button>`
      return [html`<span class="request">${n.actors.length > 1 ? html`<span>${who}</span>` : nothing}${state}${d.error ? html`<span class="error" role="alert">${d.error}</span>` : nothing}</span>`]
    })
    return html`<span class="requests" part="requests">${rows}
      ${n.actorCount > rows.length || rows.length === 0 ? html`<a href=${this.client.rest.pageUrl("/requests")}>See all follow requests</a>` : nothing}</span>`
  }

  #badge() {
    const unread = this.unreadCount > 0
    const count = unread ? html`<span class="badge" part="badge" aria-hidden="true">${this.unreadCount > 99 ? "99+" : this.unreadCount}</span>` : nothing
    // a visible label is the accessible name, so what is read matches what is seen (WCAG 2.5.3)
    if (this.label) {
      return html`<a class="bell" href=${this.client.rest.pageUrl(this.href)}>
        ${bell()}${count}<span part="label">${this.label}</span>${unread ? html`<span class="visually-hidden">, ${this.unreadCount} unread</span>` : nothing}
      </a>`
    }
    return html`<a class="bell" href=${this.client.rest.pageUrl(this.href)} aria-label=${unread ? `Notifications, ${this.unreadCount} unread` : "Notifications"}>
      ${bell()}${count}
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
              ${this.#requestActions(n)}
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
