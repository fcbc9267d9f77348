import { html, nothing } from "lit"
import type { UserListItem } from "../../src/domain/Accounts.ts"
import { describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./user-search.styles.ts"

/**
 * @summary As-you-type user search (a combobox): results after a short pause, arrow keys move
 * through them, Enter (or a click on a result) opens the chosen profile.
 *
 * @attr debounce - Milliseconds to wait after typing before searching (default 200).
 * @attr placeholder - The input's placeholder.
 *
 * @csspart input - The search box.
 * @csspart results - The list of people found.
 *
 * @fires ap-navigate - A profile was chosen (`/u/<username>`); cancel it to handle it yourself.
 * @fires ap-error - The search failed.
 */
export class ApUserSearch extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    debounce: { type: Number },
    placeholder: { type: String },
    query: { state: true },
    results: { state: true },
    active: { state: true },
    searching: { state: true },
    error: { state: true }
  }

  declare debounce: number
  declare placeholder: string
  declare query: string
  declare results: ReadonlyArray<UserListItem> | undefined
  declare active: number
  declare searching: boolean
  declare error: string
  #timer: ReturnType<typeof setTimeout> | undefined
  #inflight: AbortController | undefined

  constructor() {
    super()
    this.debounce = 200
    this.placeholder = "Search people"
    this.query = ""
    this.active = -1
    this.searching = false
    this.error = ""
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#timer)
    this.#inflight?.abort()
  }

  #onInput(event: Event) {
    this.query = (event.target as HTMLInputElement).value
    clearTimeout(this.#timer)
    const q = this.query.trim()
    if (q === "") {
      this.#inflight?.abort()
      this.results = undefined
      this.active = -1
      return
    }
    this.#timer = setTimeout(() => void this.search(q), this.debounce)
  }

  /** Runs one search now; an older one still in flight is cancelled so answers never arrive out of order. */
  async search(q: string): Promise<void> {
    this.#inflight?.abort()
    const controller = new AbortController()
    this.#inflight = controller
    this.searching = true
    this.error = ""
    try {
      const page = await this.client.rest.searchUsers(q.slice(0, 64), 8, controller.signal)
      if (controller.signal.aborted) return
      this.results = page.items
      this.active = page.items.length > 0 ? 0 : -1
    } catch (error) {
      if (controller.signal.aborted) return
      this.error = describeError(error)
      this.emit("ap-error", { message: this.error })
    } finally {
      if (this.#inflight === controller) this.searching = false
    }
  }

  #onKey(event: KeyboardEvent) {
    const n = this.results?.length ?? 0
    if (event.key === "ArrowDown" && n > 0) {
      event.preventDefault()
      this.active = (this.active + 1) % n
    } else if (event.key === "ArrowUp" && n > 0) {
      event.preventDefault()
      this.active = (this.active - 1 + n) % n
    } else if (event.key === "Enter" && this.active >= 0 && this.results?.[this.active]) {
      event.preventDefault()
      this.navigate(`/u/${this.results[this.active]!.user.username}`)
    } else if (event.key === "Escape") {
      this.results = undefined
      this.active = -1
    }
  }

  override render() {
    const results = this.results
    const expanded = results !== undefined && results.length > 0
    return html`<div class="box">
      <label class="visually-hidden" for="q">Search people</label>
      <input
        id="q"
        part="input"
        type="search"
        role="combobox"
        autocomplete="off"
        aria-autocomplete="list"
        aria-controls="results"
        aria-expanded=${expanded ? "true" : "false"}
        aria-activedescendant=${expanded && this.active >= 0 ? `result-${this.active}` : ""}
        placeholder=${this.placeholder}
        .value=${this.query}
        @input=${this.#onInput}
        @keydown=${this.#onKey}
      />
      <div class="status" role="status" aria-live="polite">
        ${this.searching ? "Searching…" : results !== undefined && results.length === 0 ? "No one found." : ""}
        ${this.error ? html`<span class="error">${this.error}</span>` : nothing}
      </div>
      ${expanded
        ? html`<ul id="results" role="listbox" part="results" aria-label="People">
          ${results.map(
            // an option's content is presentational: a link inside it would be a nested control
            (item, i) => html`<li
              id="result-${i}"
              role="option"
              aria-selected=${i === this.active ? "true" : "false"}
              @click=${() => this.navigate(`/u/${item.user.username}`)}
            >
              ${item.user.avatar ? html`<img class="avatar" src=${this.client.rest.url(item.user.avatar.thumbnail)} alt="" />` : html`<span class="avatar"></span>`}
              <span><strong>${item.user.username}</strong> <span class="muted">${item.user.displayName}</span></span>
              ${item.isFollowing ? html`<span class="muted">· Following</span>` : nothing}
            </li>`
          )}
        </ul>`
        : nothing}
    </div>`
  }
}
