import { html, nothing, type PropertyValues } from "lit"
import type { Profile } from "../../src/domain/Accounts.ts"
import type { Post } from "../../src/domain/Posts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { plural } from "../shared/format.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./profile.styles.ts"

type Relation = "self" | "anonymous" | "following" | "requested" | "blocked" | "none"

/**
 * @summary A person's profile: avatar, names, bio, counts, the follow / requested / following /
 * unblock button, the private-account notice, and the grid of their posts.
 *
 * @attr username - Whose profile (required).
 *
 * @csspart header - The top section with the avatar, names, counts and buttons.
 * @csspart follow-button - Follow, Requested, Following or Unblock.
 * @csspart message-button - Message: opens (or starts) the direct thread with this person.
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
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    username: { type: String },
    profile: { state: true },
    posts: { state: true },
    error: { state: true },
    busy: { state: true },
    blockedByMe: { state: true },
    hasMore: { state: true }
  }

  declare username: string
  declare profile: Profile | undefined
  declare posts: ReadonlyArray<Post>
  declare error: string
  declare busy: boolean
  declare blockedByMe: boolean
  declare hasMore: boolean
  #cursor: string | null = null

  constructor() {
    super()
    this.username = ""
    this.posts = []
    this.error = ""
    this.busy = false
    this.blockedByMe = false
    this.hasMore = false
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

  #setViewer(update: Partial<{ isFollowing: boolean; requested: boolean; blocked: boolean }>, followerDelta = 0) {
    const p = this.profile
    if (!p) return
    const viewer = { isFollowing: false, followsYou: false, requested: false, blocked: false, ...p.viewer, ...update }
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
      const wasFollowing = this.relation === "following"
      await this.client.rest.unfollow(this.username)
      this.#setViewer({ isFollowing: false, requested: false }, wasFollowing ? -1 : 0)
      return "none"
    })

  #block = () =>
    this.#act(async () => {
      if (!confirm(`Block ${this.username}? They won't be able to see your profile or posts.`)) return this.relation
      await this.client.rest.block(this.username)
      this.blockedByMe = true
      this.posts = []
      return "blocked"
    })

  #unblock = () =>
    this.#act(async () => {
      await this.client.rest.unblock(this.username)
      this.blockedByMe = false
      await this.load()
      return "none"
    })

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

  override render() {
    const p = this.profile
    if (!p) {
      return this.error
        ? html`<p role="alert" class="error">${this.error}</p>`
        : this.relation === "blocked"
          ? html`<p>You blocked ${this.username}. ${this.#button()}</p>`
          : html`<p class="muted">Loading…</p>`
    }
    const url = (path: string) => this.client.rest.url(path)
    const blocked = this.relation === "blocked"
    return html`
      <header part="header">
        ${p.avatar ? html`<img class="avatar" src=${url(p.avatar.small)} alt="${p.username}'s profile photo" />` : html`<span class="avatar" aria-hidden="true"></span>`}
        <div class="names">
          <h2>${p.username}</h2>
          ${this.#button()}
          ${this.relation === "none" || this.relation === "following" || this.relation === "requested"
            ? html`<button part="message-button" ?disabled=${this.busy} @click=${this.#message}>Message</button>
              <button ?disabled=${this.busy} @click=${this.#block} aria-label="Block ${p.username}">Block</button>`
            : nothing}
        </div>
        <ul class="counts" aria-label="Counts">
          <li><strong>${p.counts.posts.toLocaleString()}</strong> ${p.counts.posts === 1 ? "post" : "posts"}</li>
          <li><strong>${p.counts.followers.toLocaleString()}</strong> ${p.counts.followers === 1 ? "follower" : "followers"}</li>
          <li><strong>${p.counts.following.toLocaleString()}</strong> following</li>
        </ul>
        <div>
          ${p.displayName ? html`<strong>${p.displayName}</strong>` : nothing}
          ${p.bio ? html`<p class="bio">${p.bio}</p>` : nothing}
        </div>
      </header>
      <div role="alert" class="error">${this.error}</div>
      ${blocked
        ? html`<p class="private" part="private">You blocked this account.</p>`
        : !p.canViewContent
          ? html`<div class="private" part="private"><p><strong>This account is private.</strong></p>
            <p class="muted">Follow ${p.username} to see their photos.</p></div>`
          : this.posts.length === 0
            ? html`<p class="private muted">No posts yet.</p>`
            : html`<ul class="grid" part="grid" aria-label="${plural(p.counts.posts, "post")} by ${p.username}">
              ${this.posts.map((post) => html`<li>
                <a href=${this.client.rest.pageUrl(`/p/${post.id}`)} style=${post.placeholder ? `background-image:url("${post.placeholder}")` : ""}>
                  ${post.variants ? html`<img src=${url(post.variants.small)} alt=${post.altText || `Photo by ${p.username}`} loading="lazy" />` : nothing}
                </a>
              </li>`)}
            </ul>
            ${this.hasMore ? html`<p class="more"><button @click=${() => this.#loadPosts()}>Show more</button></p>` : nothing}`}
    `
  }
}
