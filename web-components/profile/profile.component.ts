import { html, nothing, type PropertyValues } from "lit"
import type { Profile } from "../../src/domain/Accounts.ts"
import type { Notification } from "../../src/domain/Notifications.ts"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { plural } from "../shared/format.ts"
import { LiveController } from "../shared/live.ts"
import { gridStyles } from "../shared/grid.styles.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./profile.styles.ts"
import "../sdk/dm.ts"

type Relation = "self" | "anonymous" | "following" | "requested" | "blocked" | "none"

/**
 * @summary A person's profile: avatar, names, bio, counts (linking to the followers and following
 * lists), the follow / requested / following / unblock button, a "…" menu (unfollow, mute, block,
 * copy link; on your own: edit profile, follow requests), the private-account notice, and the grid
 * of their posts. "Requested" turns into "Following" live when the request is approved.
 *
 * @attr username - Whose profile (required).
 *
 * @csspart header - The top section with the avatar, names, counts and buttons.
 * @csspart follow-button - Follow, Requested, Following or Unblock.
 * @csspart message-button - Message: opens (or starts) the direct thread with this person.
 * @csspart more-button - The "…" button that opens the menu of other actions.
 * @csspart menu - That menu.
 * @csspart grid - The grid of posts.
 * @csspart private - The notice shown instead of a private account's posts.
 *
 * @cssprop --ap-grid-gap - Space between grid tiles (default 4px).
 * @cssprop --ap-accent - Colour of the follow button.
 *
 * @fires ap-follow - The follow state changed (follow, unfollow, block, unblock).
 * @fires ap-navigate - To the direct thread, after Message.
 * @fires ap-error - Loading or an action failed.
 */
export class ApProfile extends ApElement {
  static override styles = [theme, gridStyles, styles]
  static override properties = {
    ...ApElement.properties,
    username: { type: String },
    profile: { state: true },
    posts: { state: true },
    error: { state: true },
    busy: { state: true },
    blockedByMe: { state: true },
    hasMore: { state: true },
    menuOpen: { state: true },
    notice: { state: true }
  }

  declare username: string
  declare profile: Profile | undefined
  declare posts: ReadonlyArray<Post>
  declare error: string
  declare busy: boolean
  declare blockedByMe: boolean
  declare hasMore: boolean
  declare menuOpen: boolean
  /** A short confirmation (muted, link copied), with Undo where it can be undone. */
  declare notice: { readonly text: string; readonly undo?: () => void } | undefined
  #cursor: string | null = null
  #noticeTimer: ReturnType<typeof setTimeout> | undefined

  constructor() {
    super()
    this.username = ""
    this.posts = []
    this.error = ""
    this.busy = false
    this.blockedByMe = false
    this.hasMore = false
    this.menuOpen = false
    new LiveController(this, {
      // our request was approved: the button and the grid follow at once
      notification: (frame) => {
        const n = frame.payload.notification as Notification | undefined
        if (n?.kind === "follow_approved" && this.profile && n.actors.some((a) => a.id === this.profile!.id)) void this.load()
      }
    })
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#noticeTimer)
    document.removeEventListener("click", this.#closeMenuOutside)
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has("username") || changed.has("api") || changed.has("token")) && this.username) void this.load()
  }

  async load(): Promise<void> {
    const username = this.username
    this.error = ""
    this.blockedByMe = false
    try {
      await this.client.session().catch(() => null)
      const profile = await this.client.rest.profile(username)
      if (username !== this.username) return
      this.profile = profile
      this.posts = []
      this.#cursor = null
      this.hasMore = false
      if (profile.canViewContent) await this.#loadPosts()
    } catch (error) {
      if (username !== this.username) return
      this.profile = undefined
      this.error = error instanceof ApiError && error.status === 404 ? "This account doesn't exist or isn't available." : describeError(error)
      this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
    }
  }

  async #loadPosts() {
    const page = await this.client.rest.grid(this.username, { cursor: this.#cursor, limit: 24 })
    this.posts = [...this.posts, ...page.items.filter((p) => p.status === "published")]
    this.#cursor = page.nextCursor
    this.hasMore = page.hasMore
  }

  get relation(): Relation {
    const p = this.profile
    if (this.blockedByMe || p?.viewer?.blocked) return "blocked"
    if (!p) return "none"
    const me = this.client.me
    if (me && me.id === p.id) return "self"
    if (!me) return "anonymous"
    if (p.viewer?.isFollowing) return "following"
    if (p.viewer?.requested) return "requested"
    return "none"
  }

  async #act(action: () => Promise<Relation>) {
    if (this.busy) return
    this.busy = true
    this.error = ""
    try {
      const status = await action()
      this.emit("ap-follow", { username: this.username, status: status === "blocked" ? "blocked" : status === "following" || status === "requested" ? status : "none" })
    } catch (error) {
      this.error = describeError(error)
      this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
    } finally {
      this.busy = false
    }
  }

  #setViewer(update: Partial<{ isFollowing: boolean; followsYou: boolean; requested: boolean; blocked: boolean; muted: boolean }>, followerDelta = 0) {
    const p = this.profile
    if (!p) return
    const viewer = { isFollowing: false, followsYou: false, requested: false, blocked: false, muted: false, ...p.viewer, ...update }
    this.profile = { ...p, viewer, counts: { ...p.counts, followers: p.counts.followers + followerDelta } }
  }

  #follow = () =>
    this.#act(async () => {
      const { status } = await this.client.rest.follow(this.username)
      this.#setViewer({ isFollowing: status === "following", requested: status === "requested" }, status === "following" ? 1 : 0)
      if (status === "following" && this.posts.length === 0) await this.load()
      return status
    })

  #unfollow = () =>
    this.#act(async () => {
      this.menuOpen = false
      const wasFollowing = this.relation === "following"
      if (wasFollowing && this.profile?.isPrivate && !confirm(`Unfollow ${this.username}? Their account is private: you would have to ask again to see their posts.`)) return this.relation
      await this.client.rest.unfollow(this.username)
      this.#setViewer({ isFollowing: false, requested: false }, wasFollowing ? -1 : 0)
      return "none"
    })

  #block = () =>
    this.#act(async () => {
      this.menuOpen = false
      if (!confirm(`Block ${this.username}? They won't be able to see your profile or posts.`)) return this.relation
      await this.client.rest.block(this.username)
      this.blockedByMe = true
      const wasFollowing = this.relation === "following"
      this.posts = []
      // a block ends the follows both ways
      this.#setViewer({ blocked: true, isFollowing: false, requested: false, followsYou: false }, wasFollowing ? -1 : 0)
      if (this.profile) this.profile = { ...this.profile, canViewContent: false }
      return "blocked"
    })

  #unblock = () =>
    this.#act(async () => {
      await this.client.rest.unblock(this.username)
      this.blockedByMe = false
      await this.load()
      return "none"
    })

  #say(text: string, undo?: () => void) {
    clearTimeout(this.#noticeTimer)
    this.notice = undo ? { text, undo } : { text }
    this.#noticeTimer = setTimeout(() => (this.notice = undefined), 6_000)
  }

  #mute = (mute: boolean) =>
    this.#act(async () => {
      this.menuOpen = false
      if (mute) await this.client.rest.mute(this.username)
      else await this.client.rest.unmute(this.username)
      this.#setViewer({ muted: mute })
      if (mute) this.#say(`Muted ${this.username}: their posts and stories are left out of your feed.`, () => void this.#mute(false))
      else this.#say(`Unmuted ${this.username}.`)
      return this.relation
    })

  #copyLink = async () => {
    this.menuOpen = false
    const link = new URL(this.client.rest.pageUrl(`/u/${encodeURIComponent(this.username)}`), location.href).href
    try {
      await navigator.clipboard.writeText(link)
      this.#say("Link copied.")
    } catch {
      this.#say(`Copy this link: ${link}`)
    }
  }

  #toggleMenu = () => {
    this.menuOpen = !this.menuOpen
    if (this.menuOpen) {
      document.addEventListener("click", this.#closeMenuOutside)
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>("[part=menu] button, [part=menu] a")?.focus())
    } else document.removeEventListener("click", this.#closeMenuOutside)
  }

  #closeMenuOutside = (event: MouseEvent) => {
    if (!event.composedPath().includes(this)) {
      this.menuOpen = false
      document.removeEventListener("click", this.#closeMenuOutside)
    }
  }

  #menuKey = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || !this.menuOpen) return
    this.menuOpen = false
    this.renderRoot.querySelector<HTMLElement>("[part=more-button]")?.focus()
  }

  #menu() {
    const p = this.profile!
    const relation = this.relation
    if (relation === "anonymous") return nothing
    const item = (label: string, action: () => unknown, danger = false) =>
      html`<li><button class=${danger ? "danger" : ""} ?disabled=${this.busy} @click=${action}>${label}</button></li>`
    const link = (label: string, path: string) => html`<li><a href=${this.client.rest.pageUrl(path)} @click=${() => (this.menuOpen = false)}>${label}</a></li>`
    return html`<div class="more" @keydown=${this.#menuKey}>
      <button part="more-button" aria-expanded=${this.menuOpen ? "true" : "false"} aria-controls="profile-menu" aria-label="More options for ${p.username}" @click=${this.#toggleMenu}>…</button>
      ${this.menuOpen
        ? html`<ul id="profile-menu" part="menu" class="menu">
          ${relation === "self"
            ? html`${link("Edit profile", "/settings")}${p.isPrivate ? link("Follow requests", "/requests") : nothing}${link("Saved posts", "/saved")}`
            : nothing}
          ${relation === "following" || relation === "requested" ? item(relation === "following" ? "Unfollow" : "Cancel follow request", this.#unfollow) : nothing}
          ${relation !== "self" && relation !== "blocked"
            ? html`${p.viewer?.muted ? item("Unmute", () => this.#mute(false)) : item("Mute", () => this.#mute(true))}${item("Block", this.#block, true)}`
            : nothing}
          ${item("Copy link", this.#copyLink)}
        </ul>`
        : nothing}
    </div>`
  }

  /** Opens the 1:1 thread (the server answers the existing one if any). */
  #message = async () => {
    if (this.busy) return
    this.busy = true
    this.error = ""
    try {
      const conversation = await this.client.dm.start([this.username])
      this.navigate(`/messages/${conversation.id}`)
    } catch (error) {
      this.error = describeError(error)
      this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
    } finally {
      this.busy = false
    }
  }

  #button() {
    switch (this.relation) {
      case "self":
      case "anonymous":
        return nothing
      case "blocked":
        return html`<button part="follow-button" ?disabled=${this.busy} @click=${this.#unblock}>Unblock</button>`
      case "following":
        return html`<button part="follow-button" aria-pressed="true" ?disabled=${this.busy} @click=${this.#unfollow}>Following</button>`
      case "requested":
        return html`<button part="follow-button" aria-pressed="true" ?disabled=${this.busy} @click=${this.#unfollow} aria-label="Requested (cancel the request)">Requested</button>`
      case "none":
        return html`<button class="primary" part="follow-button" aria-pressed="false" ?disabled=${this.busy} @click=${this.#follow}>
          ${this.profile?.viewer?.followsYou ? "Follow back" : "Follow"}
        </button>`
    }
  }

  #count(n: number, one: string, many: string, list: "followers" | "following" | null) {
    const label = html`<strong>${n.toLocaleString()}</strong> ${n === 1 ? one : many}`
    return list && this.profile?.canViewContent
      ? html`<li><a href=${this.client.rest.pageUrl(`/u/${encodeURIComponent(this.username)}/${list}`)}>${label}</a></li>`
      : html`<li>${label}</li>`
  }

  #content(p: Profile) {
    const url = (path: string) => this.client.rest.url(path)
    if (this.relation === "blocked") return html`<p class="private" part="private">You blocked this account. Unblock ${p.username} to see their posts and let them see yours.</p>`
    if (!p.canViewContent) {
      return html`<div class="private" part="private"><p><strong>This account is private.</strong></p>
        <p class="muted">Follow ${p.username} to see their photos.</p></div>`
    }
    const own = this.relation === "self"
    return html`${own && p.isPrivate
        ? html`<p class="private-note" part="private">Your account is private: only followers you approve see your posts. <a href=${this.client.rest.pageUrl("/requests")}>Follow requests</a> · <a href=${this.client.rest.pageUrl("/settings")}>Settings</a></p>`
        : nothing}
      ${this.posts.length === 0
        ? html`<p class="private muted">${own ? html`You haven't posted yet. <a href=${this.client.rest.pageUrl("/new")}>Share your first photo</a>` : "No posts yet."}</p>`
        : html`<ul class="grid" part="grid" aria-label="${plural(p.counts.posts, "post")} by ${p.username}">
          ${this.posts.map((post) => html`<li>
            <a href=${this.client.rest.pageUrl(`/p/${post.id}`)} style=${post.placeholder ? `background-image:url("${post.placeholder}")` : ""}>
              ${post.variants ? html`<img src=${url(post.variants.small)} alt=${post.altText || `Photo by ${p.username}`} loading="lazy" />` : nothing}
            </a>
          </li>`)}
        </ul>
        ${this.hasMore ? html`<p class="more-posts"><button @click=${() => this.#loadPosts()}>Show more</button></p>` : nothing}`}`
  }

  override render() {
    const p = this.profile
    if (!p) {
      return this.error
        ? html`<p role="alert" class="error">${this.error}</p>`
        : html`<div class="skeleton" aria-busy="true" aria-label="Loading profile"><span class="avatar"></span><span class="bar"></span><span class="bar short"></span></div>`
    }
    const url = (path: string) => this.client.rest.url(path)
    const relation = this.relation
    return html`
      <header part="header">
        ${p.avatar ? html`<img class="avatar" src=${url(p.avatar.small)} alt="${p.username}'s profile photo" />` : html`<span class="avatar" aria-hidden="true"></span>`}
        <div class="names">
          <h2>${p.username}</h2>
          ${this.#button()}
          ${relation === "none" || relation === "following" || relation === "requested"
            ? html`<button part="message-button" ?disabled=${this.busy} @click=${this.#message}>Message</button>`
            : nothing}
          ${this.#menu()}
        </div>
        <ul class="counts" aria-label="Counts">
          ${this.#count(p.counts.posts, "post", "posts", null)}
          ${this.#count(p.counts.followers, "follower", "followers", "followers")}
          ${this.#count(p.counts.following, "following", "following", "following")}
        </ul>
        <div>
          ${p.displayName ? html`<strong>${p.displayName}</strong>` : nothing}
          ${p.bio ? html`<p class="bio">${p.bio}</p>` : nothing}
        </div>
      </header>
      <div role="alert" class="error">${this.error}</div>
      <div role="status" class="notice">${this.notice
        ? html`${this.notice.text}${this.notice.undo ? html` <button @click=${() => { const undo = this.notice?.undo; this.notice = undefined; undo?.() }}>Undo</button>` : nothing}`
        : nothing}</div>
      ${this.#content(p)}
    `
  }
}
