import { html, nothing } from "lit"
import type { Me } from "../../src/domain/Accounts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { theme } from "../shared/theme.ts"
import { AvatarController } from "./avatar.ts"
import { BlocksController, MutedController } from "./blocks.ts"
import { EmbedTokensController } from "./embed-tokens.ts"
import { checkPassword, fieldError, MAX_PASSWORD, MIN_PASSWORD } from "./errors.ts"
import { styles } from "./settings.styles.ts"

type Errors = Readonly<Record<string, string>>

/**
 * @summary The signed-in account's settings: the avatar (cropped square in the browser), display
 * name and bio, the private-account switch, the password, signing out every other session, the
 * accounts you block and mute (Unblock / Unmute, with Undo for a few seconds), and embed tokens
 * (create, copy once, revoke). Each error of the server shows at its field (`details.field`).
 *
 * @csspart section - Each group of settings (profile, privacy, password, sessions, blocked).
 * @csspart private-switch - The private-account switch.
 * @csspart save - The Save button of the profile form.
 * @csspart change-password - The Change password button.
 * @csspart logout-others - Sign out of all other sessions (and its confirm button).
 * @csspart blocked-list - The list of blocked accounts.
 * @csspart unblock - Each Unblock button.
 * @csspart undo - Undo after an unblock or unmute.
 * @csspart avatar-crop - The square crop preview (a canvas); save-avatar - its Save button.
 * @csspart muted-list - The list of muted accounts; unmute - each Unmute button.
 * @csspart token-list - The embed tokens; create-token, revoke, revoke-confirm - their buttons.
 * @csspart token-created - The new token's secret and snippet (shown once); copy-token, copy-snippet.
 *
 * @cssprop --ap-accent - Buttons and the switch when on.
 * @cssprop --ap-danger - Error text.
 * @cssprop --ap-focus-ring - The focus outline.
 *
 * @fires ap-follow - An account was unblocked (`none`) or blocked again by Undo (`blocked`).
 * @fires ap-error - A call failed; `message` is what the page showed.
 */
export class ApSettings extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    me: { state: true },
    loadError: { state: true },
    profileErrors: { state: true },
    profileStatus: { state: true },
    privacyError: { state: true },
    passwordErrors: { state: true },
    passwordStatus: { state: true },
    confirming: { state: true },
    sessionsStatus: { state: true },
    sessionsError: { state: true },
    busy: { state: true }
  }

  declare me: Me | null | undefined
  declare loadError: string
  declare profileErrors: Errors
  declare profileStatus: string
  declare privacyError: string
  declare passwordErrors: Errors
  declare passwordStatus: string
  declare confirming: boolean
  declare sessionsStatus: string
  declare sessionsError: string
  /** Which form is waiting for the server. */
  declare busy: "" | "profile" | "privacy" | "password" | "sessions"
  readonly blocks = BlocksController(this)
  readonly muted = MutedController(this)
  readonly embedTokens = new EmbedTokensController(this)
  readonly avatar = new AvatarController(this)

  constructor() {
    super()
    this.loadError = ""
    this.profileErrors = {}
    this.profileStatus = ""
    this.privacyError = ""
    this.passwordErrors = {}
    this.passwordStatus = ""
    this.confirming = false
    this.sessionsStatus = ""
    this.sessionsError = ""
    this.busy = ""
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this.load()
  }

  async load(): Promise<void> {
    this.loadError = ""
    try {
      this.me = await this.client.session()
      if (this.me) await Promise.all([this.blocks.load(), this.muted.load(), this.embedTokens.load()])
    } catch (error) {
      this.loadError = describeError(error)
      this.#reportError(this.loadError, error)
    }
  }

  #reportError(message: string, error: unknown) {
    this.emit("ap-error", { message, status: error instanceof ApiError ? error.status : undefined, code: error instanceof ApiError ? error.code : undefined })
  }

  /** Moves focus to the first field with an error, so it is read out with its message. */
  async #focusInvalid(form: HTMLFormElement) {
    await this.updateComplete
    form.querySelector<HTMLElement>("[aria-invalid=true]")?.focus()
  }

  async #saveProfile(event: SubmitEvent) {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    this.busy = "profile"
    this.profileErrors = {}
    this.profileStatus = ""
    try {
      this.me = await this.client.updateMe({ displayName: String(data.get("displayName") ?? "").trim(), bio: String(data.get("bio") ?? "") })
      this.profileStatus = "Saved"
    } catch (error) {
      const { field, message } = fieldError(error)
      this.profileErrors = { [field === "displayName" || field === "bio" ? field : "form"]: message }
      this.#reportError(message, error)
      void this.#focusInvalid(form)
    } finally {
      this.busy = ""
    }
  }

  async #togglePrivate(event: Event) {
    const input = event.target as HTMLInputElement
    const isPrivate = input.checked
    this.busy = "privacy"
    this.privacyError = ""
    try {
      this.me = await this.client.updateMe({ isPrivate })
    } catch (error) {
      input.checked = !isPrivate
      this.privacyError = fieldError(error).message
      this.#reportError(this.privacyError, error)
    } finally {
      this.busy = ""
    }
  }

  async #changePassword(event: SubmitEvent) {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    const currentPassword = String(data.get("currentPassword") ?? "")
    const newPassword = String(data.get("newPassword") ?? "")
    this.passwordStatus = ""
    const errors: Record<string, string> = {}
    if (currentPassword === "") errors.currentPassword = "Enter your current password."
    const tooShortOrLong = checkPassword(newPassword)
    if (tooShortOrLong) errors.newPassword = tooShortOrLong
    this.passwordErrors = errors
    if (Object.keys(errors).length > 0) return void this.#focusInvalid(form)
    this.busy = "password"
    try {
      const { endedSessions } = await this.client.rest.changePassword({ currentPassword, newPassword })
      form.reset()
      this.passwordStatus = `Password changed; ${endedSessions} other ${endedSessions === 1 ? "session was" : "sessions were"} signed out.`
    } catch (error) {
      const { field, message } = fieldError(error, "newPassword")
      this.passwordErrors = { [field === "currentPassword" || field === "newPassword" ? field : "form"]: message }
      this.#reportError(message, error)
      void this.#focusInvalid(form)
    } finally {
      this.busy = ""
    }
  }

  async #logoutOthers() {
    this.busy = "sessions"
    this.sessionsError = ""
    try {
      const { endedSessions } = await this.client.rest.logoutOthers()
      this.confirming = false
      this.sessionsStatus = `Signed out of ${endedSessions} other ${endedSessions === 1 ? "session" : "sessions"}.`
    } catch (error) {
      this.sessionsError = describeError(error)
      this.#reportError(this.sessionsError, error)
    } finally {
      this.busy = ""
    }
  }

  async #askLogoutOthers() {
    this.sessionsStatus = ""
    this.confirming = true
    await this.updateComplete
    this.renderRoot.querySelector<HTMLElement>("[data-confirm]")?.focus()
  }

  /** An input's error wiring: the message's id in aria-describedby (after any hint) and aria-invalid. */
  #field(name: string, errors: Errors, hint = false) {
    const described = [hint ? `${name}-hint` : "", errors[name] ? `${name}-error` : ""].filter(Boolean).join(" ")
    return { described: described || nothing, invalid: errors[name] ? "true" : "false" }
  }

  #error(name: string, errors: Errors) {
    return html`<p id="${name}-error" class="error field-error" ?hidden=${!errors[name]}>${errors[name] ?? ""}</p>`
  }

  #profile(me: Me) {
    const e = this.profileErrors
    const name = this.#field("displayName", e)
    const bio = this.#field("bio", e, true)
    return html`<section part="section" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <form @submit=${this.#saveProfile} @input=${() => (this.profileStatus = "")}>
        <label for="displayName">Display name</label>
        <input id="displayName" name="displayName" maxlength="64" autocomplete="name" .value=${me.displayName} aria-describedby=${name.described} aria-invalid=${name.invalid} />
        ${this.#error("displayName", e)}
        <label for="bio">Bio</label>
        <textarea id="bio" name="bio" rows="3" maxlength="150" .value=${me.bio} aria-describedby=${bio.described} aria-invalid=${bio.invalid}></textarea>
        <p id="bio-hint" class="muted">Up to 150 characters.</p>
        ${this.#error("bio", e)}
        <div role="alert" class="error">${e.form ?? ""}</div>
        <div class="row">
          <button class="primary" type="submit" part="save" ?disabled=${this.busy === "profile"}>Save</button>
          <span role="status" class="status">${this.profileStatus}</span>
        </div>
      </form>
    </section>`
  }

  #privacy(me: Me) {
    return html`<section part="section" aria-labelledby="privacy-heading">
      <h2 id="privacy-heading">Privacy</h2>
      <div class="switch-row">
        <input id="isPrivate" type="checkbox" role="switch" part="private-switch" .checked=${me.isPrivate} ?disabled=${this.busy === "privacy"}
          aria-describedby="isPrivate-hint${this.privacyError ? " isPrivate-error" : ""}" aria-invalid=${this.privacyError ? "true" : "false"} @change=${this.#togglePrivate} />
        <label for="isPrivate">Private account</label>
      </div>
      <p id="isPrivate-hint" class="muted">When your account is private, only people you approve can see your photos and your followers and following lists. People who already follow you stay.</p>
      <p id="isPrivate-error" role="alert" class="error">${this.privacyError}</p>
    </section>`
  }

  #password() {
    const e = this.passwordErrors
    const current = this.#field("currentPassword", e)
    const next = this.#field("newPassword", e, true)
    return html`<section part="section" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <form @submit=${this.#changePassword} novalidate>
        <input type="text" name="username" autocomplete="username" .value=${this.me?.username ?? ""} hidden />
        <label for="currentPassword">Current password</label>
        <input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" aria-describedby=${current.described} aria-invalid=${current.invalid} />
        ${this.#error("currentPassword", e)}
        <label for="newPassword">New password</label>
        <input id="newPassword" name="newPassword" type="password" autocomplete="new-password" maxlength=${MAX_PASSWORD} aria-describedby=${next.described} aria-invalid=${next.invalid} />
        <p id="newPassword-hint" class="muted">${MIN_PASSWORD}–${MAX_PASSWORD} characters. Your other sessions will be signed out.</p>
        ${this.#error("newPassword", e)}
        <div role="alert" class="error">${e.form ?? ""}</div>
        <div class="row">
          <button class="primary" type="submit" part="change-password" ?disabled=${this.busy === "password"}>Change password</button>
        </div>
        <p role="status" class="status">${this.passwordStatus}</p>
      </form>
    </section>`
  }

  #sessions() {
    return html`<section part="section" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <p class="muted">Signs you out on every other browser and device. You stay signed in here.</p>
      ${this.confirming
        ? html`<div class="confirm" role="group" aria-labelledby="confirm-text">
          <p id="confirm-text"><strong>Sign out of all other sessions?</strong></p>
          <div class="row">
            <button class="primary" data-confirm part="logout-others" ?disabled=${this.busy === "sessions"} @click=${this.#logoutOthers}>Yes, sign them out</button>
            <button @click=${() => (this.confirming = false)}>Cancel</button>
          </div>
        </div>`
        : html`<button part="logout-others" @click=${this.#askLogoutOthers}>Sign out of all other sessions</button>`}
      <p role="status" class="status">${this.sessionsStatus}</p>
      <p role="alert" class="error">${this.sessionsError}</p>
    </section>`
  }

  override render() {
    if (this.loadError) return html`<p role="alert" class="error">${this.loadError}</p>`
    if (this.me === undefined) return html`<p class="muted" role="status">Loading…</p>`
    if (this.me === null) return html`<p>Log in to change your settings. <a href="/login">Log in</a></p>`
    return html`${this.avatar.render()}${this.#profile(this.me)}${this.#privacy(this.me)}${this.#password()}${this.#sessions()}${this.blocks.render()}${this.muted.render()}${this.embedTokens.render()}`
  }
}
