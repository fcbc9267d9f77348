/**
 * The settings page's lists of blocked and of muted accounts: cursor pages of
 * `GET /users/me/blocks` / `GET /users/me/muted`, Unblock / Unmute per row (sent at once), and Undo
 * for a few seconds after, which blocks / mutes again. One controller, two sets of words and calls.
 */
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from "lit"
import type { UserCard } from "../../src/domain/Accounts.ts"
import type { ApertureClient } from "../sdk/client.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import type { ApElement } from "../shared/base.ts"

/** How long Undo stays offered after an unblock or unmute. */
export const UNDO_MS = 6_000

type Host = ReactiveControllerHost & ApElement

interface Row {
  readonly user: UserCard
  /** "lifted" (unblocked, unmuted) while Undo is offered. */
  readonly state: "on" | "busy" | "lifted"
  readonly error: string
}

/** What differs between the blocked and the muted list. */
interface ListKind {
  readonly page: (client: ApertureClient, q: { readonly cursor: string | null; readonly limit: number }) => Promise<{ readonly items: ReadonlyArray<UserCard>; readonly nextCursor: string | null; readonly hasMore: boolean }>
  readonly lift: (client: ApertureClient, username: string) => Promise<unknown>
  readonly restore: (client: ApertureClient, username: string) => Promise<unknown>
  /** "block" / "mute": the buttons say Unblock / Unmute, Undo says "block … again". */
  readonly verb: string
  /** "Unblocked" / "Unmuted", in the row while Undo is offered. */
  readonly done: string
  readonly heading: string
  /** The list's part (`blocked-list`, `muted-list`) and, with `-heading`, its heading's id. */
  readonly part: string
  readonly empty: string
  /** After a change is made (lifted: true) or undone. */
  readonly changed?: (host: Host, username: string, lifted: boolean) => void
}

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

class UndoListController implements ReactiveController {
  rows: ReadonlyArray<Row> = []
  loaded = false
  hasMore = false
  error = ""
  #cursor: string | null = null
  #timers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(private readonly host: Host, private readonly kind: ListKind) {
    host.addController(this)
  }

  hostDisconnected(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    this.rows = this.rows.filter((r) => r.state !== "lifted")
  }

  async load(more = false): Promise<void> {
    this.error = ""
    try {
      const page = await this.kind.page(this.host.client, { cursor: more ? this.#cursor : null, limit: 20 })
      const fresh = page.items.map((user) => ({ user, state: "on" as const, error: "" }))
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

  /** Unblocks / unmutes at once, then offers Undo. */
  async lift(username: string): Promise<void> {
    this.#set(username, "busy")
    try {
      await this.kind.lift(this.host.client, username)
      this.#set(username, "lifted")
      this.kind.changed?.(this.host, username, true)
      this.#timers.set(username, setTimeout(() => this.#forget(username), UNDO_MS))
      await this.host.updateComplete
      this.host.renderRoot.querySelector<HTMLElement>(`[part=${this.kind.part}] [data-undo="${CSS.escape(username)}"]`)?.focus()
    } catch (error) {
      this.#set(username, "on", describeError(error))
      this.#report(describeError(error), error)
    }
  }

  async undo(username: string): Promise<void> {
    clearTimeout(this.#timers.get(username))
    this.#timers.delete(username)
    this.#set(username, "busy")
    try {
      await this.kind.restore(this.host.client, username)
      this.#set(username, "on")
      this.kind.changed?.(this.host, username, false)
    } catch (error) {
      this.#set(username, "lifted", `Could not ${this.kind.verb} ${username} again: ${describeError(error)}`)
      this.#report(describeError(error), error)
    }
  }

  /** Undo's time is up: the row goes. */
  #forget(username: string) {
    this.#timers.delete(username)
    this.rows = this.rows.filter((r) => r.user.username !== username || r.state !== "lifted")
    this.host.requestUpdate()
  }

  #row(row: Row) {
    const u = row.user
    const verb = this.kind.verb
    const error = row.error ? html`<p class="error" role="alert">${row.error}</p>` : nothing
    if (row.state === "lifted") {
      return html`<li>
        <span class="who" role="status">${this.kind.done} ${u.username}.</span>
        <button part="undo" data-undo=${u.username} @click=${() => this.undo(u.username)} aria-label="Undo: ${verb} ${u.username} again">Undo</button>
        ${error}
      </li>`
    }
    return html`<li>
      <span class="who"><strong>${u.username}</strong>${u.displayName ? html` <span class="muted">${u.displayName}</span>` : nothing}</span>
      <button part="un${verb}" ?disabled=${row.state === "busy"} @click=${() => this.lift(u.username)} aria-label="Un${verb} ${u.username}">${title(`un${verb}`)}</button>
      ${error}
    </li>`
  }

  render() {
    const { heading, part } = this.kind
    const id = `${part}-heading`
    return html`<section part="section" aria-labelledby=${id}>
      <h2 id=${id}>${heading}</h2>
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      ${!this.loaded
        ? html`<p class="muted">Loading…</p>`
        : this.rows.length === 0
          ? html`<p class="muted">${this.kind.empty}</p>`
          : html`<ul class="blocked" part=${part} aria-labelledby=${id}>${this.rows.map((r) => this.#row(r))}</ul>`}
      ${this.hasMore ? html`<button @click=${() => this.load(true)}>Show more</button>` : nothing}
    </section>`
  }
}

export const BlocksController = (host: Host) =>
  new UndoListController(host, {
    page: (client, q) => client.rest.blocks(q),
    lift: (client, username) => client.rest.unblock(username),
    restore: (client, username) => client.rest.block(username),
    verb: "block",
    done: "Unblocked",
    heading: "Blocked accounts",
    part: "blocked-list",
    empty: "You haven't blocked anyone.",
    // the rest of the page (a profile shown beside) learns the new relation
    changed: (host, username, lifted) =>
      host.dispatchEvent(new CustomEvent("ap-follow", { detail: { username, status: lifted ? "none" : "blocked" }, bubbles: true, composed: true }))
  })

export const MutedController = (host: Host) =>
  new UndoListController(host, {
    page: (client, q) => client.rest.muted(q),
    lift: (client, username) => client.rest.unmute(username),
    restore: (client, username) => client.rest.mute(username),
    verb: "mute",
    done: "Unmuted",
    heading: "Muted accounts",
    part: "muted-list",
    empty: "You haven't muted anyone. Muted people's posts and stories stay out of your feed; they are not told."
  })
