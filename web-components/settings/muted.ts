/**
 * The settings page's list of muted accounts: cursor pages of `GET /users/me/muted`, Unmute per
 * row (sent at once), and Undo for a few seconds after, which mutes again. Like blocks.ts.
 */
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from "lit"
import type { UserCard } from "../../src/domain/Accounts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import type { ApElement } from "../shared/base.ts"

import { UNDO_MS } from "./blocks.ts"

type Host = ReactiveControllerHost & ApElement

interface Row {
  readonly user: UserCard
  /** "unmuted" while Undo is offered. */
  readonly state: "muted" | "busy" | "unmuted"
  readonly error: string
}

export class MutedController implements ReactiveController {
  rows: ReadonlyArray<Row> = []
  loaded = false
  hasMore = false
  error = ""
  #cursor: string | null = null
  #timers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(private readonly host: Host) {
    host.addController(this)
  }

  hostDisconnected(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    this.rows = this.rows.filter((r) => r.state !== "unmuted")
  }

  async load(more = false): Promise<void> {
    this.error = ""
    try {
      const page = await this.host.client.rest.muted({ cursor: more ? this.#cursor : null, limit: 20 })
      const fresh = page.items.map((user) => ({ user, state: "muted" as const, error: "" }))
      this.rows = more ? [...this.rows, ...fresh.filter((f) => !this.rows.some((r) => r.user.id === f.user.id))] : fresh
      this.#cursor = page.nextCursor
      this.hasMore = page.hasMore
    } catch (error) {
      this.error = describeError(error)
      this.#report(this.error, error)
    } finally {
      this.loaded = true
      this.host.requestUpdate()
    }
  }

  #report(message: string, error: unknown) {
    this.host.dispatchEvent(
      new CustomEvent("ap-error", { detail: { message, status: error instanceof ApiError ? error.status : undefined }, bubbles: true, composed: true })
    )
  }

  #set(username: string, state: Row["state"], error = "") {
    this.rows = this.rows.map((r) => (r.user.username === username ? { ...r, state, error } : r))
    this.host.requestUpdate()
  }

  async unmute(username: string): Promise<void> {
    this.#set(username, "busy")
    try {
      await this.host.client.rest.unmute(username)
      this.#set(username, "unmuted")
      this.#timers.set(username, setTimeout(() => this.#forget(username), UNDO_MS))
      await this.host.updateComplete
      this.host.renderRoot.querySelector<HTMLElement>(`[data-undo-mute="${CSS.escape(username)}"]`)?.focus()
    } catch (error) {
      this.#set(username, "muted", describeError(error))
      this.#report(describeError(error), error)
    }
  }

  async undo(username: string): Promise<void> {
    clearTimeout(this.#timers.get(username))
    this.#timers.delete(username)
    this.#set(username, "busy")
    try {
      await this.host.client.rest.mute(username)
      this.#set(username, "muted")
    } catch (error) {
      this.#set(username, "unmuted", `Could not mute ${username} again: ${describeError(error)}`)
      this.#report(describeError(error), error)
    }
  }

  /** Undo's time is up: the row goes. */
  #forget(username: string) {
    this.#timers.delete(username)
    this.rows = this.rows.filter((r) => r.user.username !== username || r.state !== "unmuted")
    this.host.requestUpdate()
  }

  #row(row: Row) {
    const u = row.user
    const name = html`<span class="who"><strong>${u.username}</strong>${u.displayName ? html` <span class="muted">${u.displayName}</span>` : nothing}</span>`
    if (row.state === "unmuted") {
      return html`<li>
        <span class="who" role="status">Unmuted ${u.username}.</span>
        <button part="undo" data-undo-mute=${u.username} @click=${() => this.undo(u.username)} aria-label="Undo: mute ${u.username} again">Undo</button>
        ${row.error ? html`<p class="error" role="alert">${row.error}</p>` : nothing}
      </li>`
    }
    return html`<li>
      ${name}
      <button part="unmute" ?disabled=${row.state === "busy"} @click=${() => this.unmute(u.username)} aria-label="Unmute ${u.username}">Unmute</button>
      ${row.error ? html`<p class="error" role="alert">${row.error}</p>` : nothing}
    </li>`
  }

  render() {
    return html`<section part="section" aria-labelledby="muted-heading">
      <h2 id="muted-heading">Muted accounts</h2>
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      ${!this.loaded
        ? html`<p class="muted">Loading…</p>`
        : this.rows.length === 0
          ? html`<p class="muted">You haven't muted anyone. Muted people's posts and stories stay out of your feed; they are not told.</p>`
          : html`<ul class="blocked" part="muted-list" aria-labelledby="muted-heading">${this.rows.map((r) => this.#row(r))}</ul>`}
      ${this.hasMore ? html`<button @click=${() => this.load(true)}>Show more</button>` : nothing}
    </section>`
  }
}
