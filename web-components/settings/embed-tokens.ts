/**
 * The settings page's embed tokens: create one (a name and a scope), see its secret once with a
 * Copy button and a ready snippet, list the live ones, and revoke one after a confirm. Errors show
 * at the field they concern (`details.field`).
 */
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from "lit"
import type { EmbedScope, EmbedToken } from "../../src/domain/EmbedTokens.ts"
import { createEmbedToken, embedTokens, revokeEmbedToken } from "../sdk/account.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import type { ApElement } from "../shared/base.ts"
import { fieldError } from "./errors.ts"

type Host = ReactiveControllerHost & ApElement

const SCOPES: Record<EmbedScope, string> = { read: "Read only", read_like: "Read and like" }

export class EmbedTokensController implements ReactiveController {
  tokens: ReadonlyArray<EmbedToken> = []
  loaded = false
  error = ""
  nameError = ""
  busy = false
  /** The token just made, with its secret: shown until the page is left. */
  created: { readonly token: EmbedToken; readonly secret: string } | undefined
  copied = ""
  confirming = ""

  constructor(private readonly host: Host) {
    host.addController(this)
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.created = undefined
  }

  #update() {
    this.host.requestUpdate()
  }

  #report(message: string, error: unknown) {
    this.host.dispatchEvent(
      new CustomEvent("ap-error", { detail: { message, status: error instanceof ApiError ? error.status : undefined }, bubbles: true, composed: true })
    )
  }

  async load(): Promise<void> {
    this.error = ""
    try {
      this.tokens = (await embedTokens(this.host.client.rest)).items
    } catch (error) {
      this.error = describeError(error)
      this.#report(this.error, error)
    } finally {
      this.loaded = true
      this.#update()
    }
  }

  async #create(event: SubmitEvent) {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    const name = String(data.get("tokenName") ?? "").trim()
    const scope = (data.get("tokenScope") === "read_like" ? "read_like" : "read") as EmbedScope
    this.nameError = name === "" ? "Give the token a name, such as the site it is for." : ""
    this.error = ""
    if (this.nameError) {
      this.#update()
      await this.host.updateComplete
      return form.querySelector<HTMLElement>("#tokenName")?.focus()
    }
    this.busy = true
    this.#update()
    try {
      this.created = await createEmbedToken(this.host.client.rest, { name, scope })
      this.tokens = [this.created.token, ...this.tokens]
      this.copied = ""
      form.reset()
      await this.host.updateComplete
      this.host.renderRoot.querySelector<HTMLElement>("#token-secret")?.focus()
    } catch (error) {
      const { field, message } = fieldError(error, "name")
      if (field === "name") this.nameError = message
      else this.error = message
      this.#report(message, error)
      await this.host.updateComplete
      if (field === "name") form.querySelector<HTMLElement>("#tokenName")?.focus()
    } finally {
      this.busy = false
      this.#update()
    }
  }

  snippet(secret: string): string {
    const api = this.host.client.rest.base || location.origin
    return `<script type="module" src="${api}/widgets/feed.js"></script>\n<ap-feed api="${api}" token="${secret}"></ap-feed>`
  }

  async #copy(what: "secret" | "snippet", text: string) {
    try {
      await navigator.clipboard.writeText(text)
      this.copied = what
    } catch {
      this.copied = "failed"
    }
    this.#update()
  }

  async #revoke(token: EmbedToken) {
    this.busy = true
    this.error = ""
    this.#update()
    try {
      await revokeEmbedToken(this.host.client.rest, token.id)
      this.tokens = this.tokens.filter((t) => t.id !== token.id)
      if (this.created?.token.id === token.id) this.created = undefined
      this.confirming = ""
    } catch (error) {
      this.error = `Could not revoke “${token.name}”: ${describeError(error)}`
      this.#report(this.error, error)
    } finally {
      this.busy = false
      this.#update()
    }
  }

  async #askRevoke(id: string) {
    this.confirming = id
    this.#update()
    await this.host.updateComplete
    this.host.renderRoot.querySelector<HTMLElement>(`[data-revoke-confirm="${CSS.escape(id)}"]`)?.focus()
  }

  #createdPanel(created: { readonly token: EmbedToken; readonly secret: string }) {
    const snippet = this.snippet(created.secret)
    return html`<div class="created" part="token-created" role="group" aria-labelledby="created-heading">
      <h3 id="created-heading">“${created.token.name}” is ready</h3>
      <p><strong>Copy it now: it is shown only this once.</strong> Anyone with it can ${created.token.scope === "read_like" ? "read your feed and like posts as you" : "read your feed"}.</p>
      <label for="token-secret">Token</label>
      <div class="row"><input id="token-secret" readonly .value=${created.secret} @focus=${(e: Event) => (e.target as HTMLInputElement).select()} />
        <button part="copy-token" @click=${() => this.#copy("secret", created.secret)}>Copy token</button></div>
      <label for="token-snippet">Snippet for your page</label>
      <textarea id="token-snippet" readonly rows="3" .value=${snippet}></textarea>
      <div class="row"><button part="copy-snippet" @click=${() => this.#copy("snippet", snippet)}>Copy snippet</button>
        <span role="status" class="status">${this.copied === "failed" ? "Copying did not work; select the text and copy it." : this.copied ? "Copied" : ""}</span></div>
      <p class="muted">More widgets and options: <a href="/embed" target="_blank">how to embed</a>.</p>
    </div>`
  }

  #row(t: EmbedToken) {
    const used = t.lastUsedAt === null ? "never used" : `last used ${new Date(t.lastUsedAt).toLocaleString()}`
    return html`<li>
      <span class="who"><strong>${t.name}</strong> <span class="muted">${SCOPES[t.scope]} · ${t.hint}… · ${used}</span></span>
      ${this.confirming === t.id
        ? html`<span class="row" role="group" aria-label="Revoke ${t.name}?">
          <button class="danger" part="revoke-confirm" data-revoke-confirm=${t.id} ?disabled=${this.busy} @click=${() => this.#revoke(t)}>Yes, revoke</button>
          <button @click=${() => ((this.confirming = ""), this.#update())}>Cancel</button></span>`
        : html`<button part="revoke" aria-label="Revoke ${t.name}" @click=${() => this.#askRevoke(t.id)}>Revoke</button>`}
    </li>`
  }

  render() {
    const invalid = this.nameError !== ""
    return html`<section part="section" aria-labelledby="embed-heading">
      <h2 id="embed-heading">Embed tokens</h2>
      <p class="muted">A token lets a widget on another site show your feed (and, if you allow it, like posts as you). It can never post, follow, message or change your account, and you can revoke it at any time.</p>
      <form @submit=${(e: SubmitEvent) => this.#create(e)} novalidate>
        <label for="tokenName">Name</label>
        <input id="tokenName" name="tokenName" maxlength="64" placeholder="My blog" aria-describedby="tokenName-error" aria-invalid=${invalid ? "true" : "false"} />
        <p id="tokenName-error" class="error field-error" ?hidden=${!invalid}>${this.nameError}</p>
        <fieldset>
          <legend>What it may do</legend>
          <div class="switch-row"><input type="radio" id="scope-read" name="tokenScope" value="read" checked /><label for="scope-read">Read only</label></div>
          <div class="switch-row"><input type="radio" id="scope-like" name="tokenScope" value="read_like" /><label for="scope-like">Read and like</label></div>
        </fieldset>
        <div class="row"><button class="primary" type="submit" part="create-token" ?disabled=${this.busy}>Create token</button></div>
      </form>
      ${this.created ? this.#createdPanel(this.created) : nothing}
      <p role="alert" class="error">${this.error}</p>
      ${!this.loaded
        ? html`<p class="muted">Loading…</p>`
        : this.tokens.length === 0
          ? html`<p class="muted">You have no embed tokens.</p>`
          : html`<ul class="blocked" part="token-list" aria-label="Your embed tokens">${this.tokens.map((t) => this.#row(t))}</ul>`}
    </section>`
  }
}
