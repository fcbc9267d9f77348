import { html, nothing, type PropertyValues } from "lit"
import type { UserCard } from "../../src/domain/Accounts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./people.styles.ts"

export type PeopleList = "followers" | "following" | "requests"

type Relation = "following" | "requested" | "none" | "self"

interface Row {
  readonly user: UserCard
  /** followers/following: the viewer's relation to this person. requests: the request's id. */
  readonly relation: Relation
  readonly requestId: string | undefined
  /** requests: what became of it. */
  readonly decision: "pending" | "approved" | "denied"
  readonly busy: boolean
  readonly error: string
}

const TITLES: Record<PeopleList, string> = { followers: "Followers", following: "Following", requests: "Follow requests" }

/**
 * @summary A list of people, a page at a time: a person's followers or whom they follow (each with
 * a Follow / Following / Requested button for the viewer), or the signed-in account's follow
 * requests with Approve and Deny.
 *
 * @attr list - `followers`, `following` or `requests`.
 * @attr username - Whose followers or following (not used for `requests`).
 *
 * @csspart list - The list of people.
 * @csspart item - One person.
 * @csspart action - Follow, Approve or Deny.
 *
 * @fires ap-follow - The viewer's follow state for someone changed.
 * @fires ap-error - Loading or an action failed.
 */
export class ApPeople extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    list: { type: String },
    username: { type: String },
    rows: { state: true },
    loaded: { state: true },
    hasMore: { state: true },
    loading: { state: true },
    error: { state: true }
  }

  declare list: PeopleList
  declare username: string
  declare rows: ReadonlyArray<Row>
  declare loaded: boolean
  declare hasMore: boolean
  declare loading: boolean
  declare error: string
  #cursor: string | null = null
  #generation = 0

  constructor() {
    super()
    this.list = "followers"
    this.username = ""
    this.rows = []
    this.loaded = false
    this.hasMore = false
    this.loading = false
    this.error = ""
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("list") || changed.has("username") || changed.has("api") || changed.has("token")) {
      if (this.list === "requests" || this.username) void this.load()
    }
  }

  /** The first page again (or the next one with `more`). */
  async load(more = false): Promise<void> {
    const generation = more ? this.#generation : ++this.#generation
    if (!more) {
      this.rows = []
      this.#cursor = null
      this.loaded = false
    }
    this.loading = true
    this.error = ""
    try {
      const me = await this.client.session().catch(() => null)
      const page = { cursor: this.#cursor, limit: 20 }
      const fresh: Array<Row> = []
      let next: { nextCursor: string | null; hasMore: boolean }
      if (this.list === "requests") {
        const answer = await this.client.rest.followRequests(page)
        next = answer
        for (const item of answer.items) fresh.push({ user: item.user, relation: "none", requestId: item.id, decision: "pending", busy: false, error: "" })
      } else {
        const answer = this.list === "following"
          ? await this.client.rest.following(this.username, page)
          : await this.client.rest.followers(this.username, page)
        next = answer
        for (const item of answer.items) {
          const relation: Relation = me?.id === item.user.id ? "self" : item.isFollowing ? "following" : "none"
          fresh.push({ user: item.user, relation, requestId: undefined, decision: "pending", busy: false, error: "" })
        }
      }
      if (generation !== this.#generation) return
      const known = new Set(this.rows.map((r) => r.user.id))
      this.rows = [...this.rows, ...fresh.filter((r) => !known.has(r.user.id))]
      this.#cursor = next.nextCursor
      this.hasMore = next.hasMore
    } catch (error) {
      if (generation !== this.#generation) return
      this.error = error instanceof ApiError && error.status === 404
        ? "This account doesn't exist or isn't available."
        : error instanceof ApiError && error.status === 403
          ? `${this.username}'s account is private: follow them to see who they follow and who follows them.`
          : describeError(error)
      this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
    } finally {
      if (generation === this.#generation) {
        this.loading = false
        this.loaded = true
      }
    }
  }

  #update(id: string, change: Partial<Row>) {
    this.rows = this.rows.map((r) => (r.user.id === id ? { ...r, ...change } : r))
  }

  async #run(row: Row, action: () => Promise<Partial<Row>>) {
    if (row.busy) return
    this.#update(row.user.id, { busy: true, error: "" })
    try {
      this.#update(row.user.id, { ...(await action()), busy: false })
    } catch (error) {
      const message = describeError(error)
      this.#update(row.user.id, { busy: false, error: message })
      this.emit("ap-error", { message, status: error instanceof ApiError ? error.status : undefined })
    }
  }

  #follow = (row: Row) =>
    this.#run(row, async () => {
      const { status } = await this.client.rest.follow(row.user.username)
      this.emit("ap-follow", { username: row.user.username, status })
      return { relation: status === "following" ? "following" : status === "requested" ? "requested" : "none" }
    })

  #unfollow = (row: Row) =>
    this.#run(row, async () => {
      await this.client.rest.unfollow(row.user.username)
      this.emit("ap-follow", { username: row.user.username, status: "none" })
      return { relation: "none" }
    })

  #decide = (row: Row, decision: "approved" | "denied") =>
    this.#run(row, async () => {
      if (decision === "approved") await this.client.rest.approveRequest(row.requestId!)
      else await this.client.rest.denyRequest(row.requestId!)
      return { decision }
    })

  #actions(row: Row) {
    const who = row.user.username
    if (this.list === "requests") {
      if (row.decision === "approved") return html`<span role="status">Approved: ${who} now follows you.</span>`
      if (row.decision === "denied") return html`<span role="status">Denied.</span>`
      return html`<button class="primary" part="action" ?disabled=${row.busy} @click=${() => this.#decide(row, "approved")} aria-label="Approve ${who}">Approve</button>
        <button part="action" ?disabled=${row.busy} @click=${() => this.#decide(row, "denied")} aria-label="Deny ${who}">Deny</button>`
    }
    switch (row.relation) {
      case "self":
        return nothing
      case "following":
        return html`<button part="action" aria-pressed="true" ?disabled=${row.busy} @click=${() => this.#unfollow(row)} aria-label="Following ${who} (unfollow)">Following</button>`
      case "requested":
        return html`<button part="action" aria-pressed="true" ?disabled=${row.busy} @click=${() => this.#unfollow(row)} aria-label="Requested to follow ${who} (cancel)">Requested</button>`
      case "none":
        return this.client.me
          ? html`<button class="primary" part="action" aria-pressed="false" ?disabled=${row.busy} @click=${() => this.#follow(row)} aria-label="Follow ${who}">Follow</button>`
          : nothing
    }
  }

  #row(row: Row) {
    const u = row.user
    return html`<li part="item">
      ${u.avatar ? html`<img class="avatar" src=${this.client.rest.url(u.avatar.small)} alt="" />` : html`<span class="avatar" aria-hidden="true"></span>`}
      <a class="who" href=${this.client.rest.pageUrl(`/u/${encodeURIComponent(u.username)}`)}>
        <strong>${u.username}</strong>${u.displayName ? html`<span class="muted">${u.displayName}</span>` : nothing}
      </a>
      <span class="actions">${this.#actions(row)}</span>
      ${row.error ? html`<p class="error" role="alert">${row.error}</p>` : nothing}
    </li>`
  }

  #empty() {
    if (this.list === "requests") return "No pending follow requests."
    return this.list === "followers" ? `Nobody follows ${this.username} yet.` : `${this.username} doesn't follow anyone yet.`
  }

  override render() {
    const label = this.list === "requests" ? TITLES.requests : `${TITLES[this.list]} of ${this.username}`
    return html`
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      ${!this.loaded
        ? html`<ul class="skeleton" aria-busy="true" aria-label="Loading ${label}">${[0, 1, 2].map(() => html`<li><span class="avatar"></span><span class="bar"></span></li>`)}</ul>`
        : this.rows.length === 0 && !this.error
          ? html`<p class="muted empty">${this.#empty()}${this.list !== "requests" ? html` <a href=${this.client.rest.pageUrl("/search")}>Find people</a>` : nothing}</p>`
          : html`<ul part="list" aria-label=${label}>${this.rows.map((r) => this.#row(r))}</ul>`}
      ${this.hasMore ? html`<p class="more"><button ?disabled=${this.loading} @click=${() => this.load(true)}>Show more</button></p>` : nothing}
    `
  }
}
