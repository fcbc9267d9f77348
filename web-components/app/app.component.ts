import { html, nothing, type PropertyValues, type TemplateResult } from "lit"
import type { Me } from "../../src/domain/Accounts.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import type { ApEvent } from "../shared/events.ts"
import { theme } from "../shared/theme.ts"
import "../composer/composer.ts"
import "../dm-inbox/dm-inbox.ts"
import "../dm-thread/dm-thread.ts"
import "../feed/feed.ts"
import "../notifications/notifications.ts"
import "../post/post.ts"
import "../profile/profile.ts"
import "../story-tray/story-tray.ts"
import "../user-search/user-search.ts"
import { styles } from "./app.styles.ts"
import { isAppPath, parseRoute, type Route } from "./routes.ts"

/** The inspector is for admins only: its code loads when /admin is first shown, not with the app (a chunk of its own). */
const loadInspector = () => import("../actor-inspector/actor-inspector.ts")
/** The settings page, like the inspector, is fetched when first opened: most visits never do. */
const loadSettings = () => import("../settings/settings.ts")

const TITLES: Record<Route["name"], string> = {
  home: "Home",
  login: "Log in",
  signup: "Sign up",
  profile: "Profile",
  post: "Post",
  notifications: "Notifications",
  search: "Search",
  new: "New post",
  messages: "Messages",
  admin: "Admin",
  settings: "Settings",
  "not-found": "Not found"
}

/**
 * @summary The Aperture web app served at `/`: sign up and log in, the home feed, profiles,
 * single posts, notifications, direct messages (inbox and thread), stories (the tray above the
 * home feed and on profiles, with the full-screen viewer), user search and the composer,
 * with client-side routes (history API: links, back and forward work) and focus moved to each new
 * page's heading. Each history entry keeps its scroll offset, restored on Back and Forward (the
 * feed keeps its posts in memory, so the offset lands on the same post). The sticky header's
 * height is published as `--ap-feed-offset-top` and the page's `scroll-padding-top`, so focused
 * controls and the feed's pill are never hidden under it.
 *
 * @csspart header - The top bar.
 * @csspart main - The page content.
 *
 * @cssprop --ap-bg - Page background.
 * @cssprop --ap-accent - Links, buttons and highlights.
 *
 * @fires ap-session - Someone signed in, up or out.
 */
export class ApApp extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    route: { state: true },
    me: { state: true },
    ready: { state: true },
    formError: { state: true },
    submitting: { state: true },
    isAdmin: { state: true }
  }

  declare route: Route
  declare me: Me | null
  declare ready: boolean
  declare formError: string
  declare submitting: boolean
  /** Whether the signed-in account may use the inspector (it was answered, not refused). */
  declare isAdmin: boolean
  #focusPending = false
  #restoreY: number | undefined
  #headerObserver: ResizeObserver | undefined

  constructor() {
    super()
    this.route = parseRoute(location.pathname)
    this.me = null
    this.ready = false
    this.formError = ""
    this.submitting = false
    this.isAdmin = false
  }

  override connectedCallback(): void {
    super.connectedCallback()
    // the app restores offsets itself, once the page's content is there to scroll to
    history.scrollRestoration = "manual"
    const navigation = performance.getEntriesByType?.("navigation")[0] as PerformanceNavigationTiming | undefined
    if (navigation?.type === "back_forward") this.#restoreY = (history.state as { scrollY?: number } | null)?.scrollY
    window.addEventListener("popstate", this.#onPopState)
    window.addEventListener("pagehide", this.#rememberScroll)
    this.addEventListener("click", this.#onClick)
    this.addEventListener("ap-navigate", this.#onNavigate)
    this.client.session().then(
      (me) => {
        this.me = me
        this.ready = true
      },
      (error: unknown) => {
        this.formError = describeError(error)
        this.ready = true
      }
    )
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.#headerObserver?.disconnect()
    this.#headerObserver = undefined
    window.removeEventListener("popstate", this.#onPopState)
    window.removeEventListener("pagehide", this.#rememberScroll)
    this.removeEventListener("click", this.#onClick)
    this.removeEventListener("ap-navigate", this.#onNavigate)
  }

  /** Client-side navigation: pushes history and renders the page, focus going to its heading. */
  go(path: string, replace = false): void {
    const url = new URL(path, location.href)
    if (url.pathname + url.search === location.pathname + location.search && !replace) return
    if (replace) history.replaceState(null, "", url)
    else {
      this.#rememberScroll()
      history.pushState(null, "", url)
    }
    this.#show(url.pathname)
    window.scrollTo(0, 0)
  }

  #show(pathname: string) {
    this.route = parseRoute(pathname)
    this.formError = ""
    this.#focusPending = true
  }

  /** The current history entry keeps its scroll offset, for Back within the app or into a reloaded one. */
  #rememberScroll = () => {
    history.replaceState({ ...(history.state as object | null), scrollY: window.scrollY }, "")
  }

  #onPopState = () => {
    this.#show(location.pathname)
    this.#restoreY = (history.state as { scrollY?: number } | null)?.scrollY ?? 0
  }

  /**
   * Scrolls back to `y` as the page grows into it (the feed lays its posts out over a few frames),
   * giving up after about a second or as soon as the reader scrolls or types.
   */
  #restoreScroll(y: number) {
    let frames = 0
    let settled = 0
    let cancelled = false
    const cancel = () => (cancelled = true)
    const stop = () => {
      window.removeEventListener("wheel", cancel)
      window.removeEventListener("touchstart", cancel)
      window.removeEventListener("keydown", cancel)
    }
    window.addEventListener("wheel", cancel, { passive: true })
    window.addEventListener("touchstart", cancel, { passive: true })
    window.addEventListener("keydown", cancel)
    const step = () => {
      if (cancelled || frames++ > 90) return stop()
      if (Math.abs(window.scrollY - y) > 1) {
        settled = 0
        window.scrollTo(0, y)
      } else if (++settled >= 10) return stop()
      requestAnimationFrame(step)
    }
    step()
  }

  /** Publishes the sticky header's height for the feed's pill and the page's focus scrolling. */
  #watchHeader() {
    const header = this.renderRoot.querySelector<HTMLElement>("header")
    if (!header || this.#headerObserver || typeof ResizeObserver === "undefined") return
    this.#headerObserver = new ResizeObserver(() => {
      const height = Math.ceil(header.getBoundingClientRect().height)
      this.style.setProperty("--ap-feed-offset-top", `${height}px`)
      document.documentElement.style.scrollPaddingTop = `${height + 8}px`
    })
    this.#headerObserver.observe(header)
  }

  #onNavigate = (event: ApEvent<"ap-navigate">) => {
    event.preventDefault()
    this.go(event.detail.path)
  }

  /** Same-origin links to app pages, wherever in the shadow trees they are, route client-side. */
  #onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const anchor = event.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement)
    if (!anchor || anchor.target || anchor.hasAttribute("download")) return
    const url = new URL(anchor.href, location.href)
    if (url.origin !== location.origin || !isAppPath(url.pathname)) return
    event.preventDefault()
    this.go(url.pathname + url.search)
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("me")) this.#checkAdmin()
  }

  /** The account says whether it is an admin (ADMIN_USERNAMES): no probe, no 403 in the console. */
  #checkAdmin() {
    this.isAdmin = this.me?.isAdmin === true
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("route") || changed.has("me") || changed.has("ready")) {
      document.title = `${this.#title()} · Aperture`
    }
    this.#watchHeader()
    if (this.#focusPending && this.ready) {
      this.#focusPending = false
      // focus must not scroll: on Back the offset is about to be restored
      this.renderRoot.querySelector<HTMLElement>("main h1")?.focus({ preventScroll: true })
    }
    if (this.#restoreY !== undefined && this.ready) {
      const y = this.#restoreY
      this.#restoreY = undefined
      this.#restoreScroll(y)
    }
  }

  #title(): string {
    const r = this.route
    if (r.name === "profile") return r.username
    if (r.name === "home" && !this.me) return "Log in"
    return TITLES[r.name]
  }

  async #auth(event: SubmitEvent, mode: "login" | "signup") {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const text = (k: string) => String(data.get(k) ?? "").trim()
    this.submitting = true
    this.formError = ""
    try {
      const me = mode === "login"
        ? await this.client.login({ login: text("login"), password: String(data.get("password") ?? "") })
        : await this.client.signup({
          username: text("username"),
          email: text("email"),
          password: String(data.get("password") ?? ""),
          ...(text("displayName") ? { displayName: text("displayName") } : {})
        })
      this.me = me
      this.emit("ap-session", { username: me.username })
      this.go("/", true)
      this.#focusPending = true
    } catch (error) {
      this.formError = error instanceof ApiError && error.status === 401 ? "Wrong username, email or password." : describeError(error)
      await this.updateComplete
      this.renderRoot.querySelector<HTMLElement>("[role=alert]")?.focus()
    } finally {
      this.submitting = false
    }
  }

  async #logout() {
    try {
      await this.client.logout()
    } catch {
      // the session is gone on this side either way
    }
    this.me = null
    this.emit("ap-session", { username: null })
    this.go("/login")
  }

  #nav() {
    const here = location.pathname
    const link = (path: string, label: string | TemplateResult) =>
      html`<li><a href=${path} aria-current=${here === path ? "page" : "false"}>${label}</a></li>`
    if (!this.me) return html`<nav aria-label="Main"><ul>${link("/login", "Log in")}${link("/signup", "Sign up")}</ul></nav>`
    return html`<nav aria-label="Main"><ul>
      ${link("/", "Home")}
      ${link("/search", "Search")}
      ${link("/new", "New post")}
      <li><ap-dm-inbox variant="badge" .client=${this.client} theme=${this.theme ?? nothing}></ap-dm-inbox></li>
      <li><ap-notifications variant="badge" .client=${this.client} theme=${this.theme ?? nothing}></ap-notifications></li>
      ${link(`/u/${this.me.username}`, "Profile")}
      ${link("/settings", "Settings")}
      ${this.isAdmin ? link("/admin", "Admin") : nothing}
      <li><button type="button" @click=${this.#logout}>Log out</button></li>
    </ul></nav>`
  }

  #authForm(mode: "login" | "signup") {
    return html`<h1 tabindex="-1">${mode === "login" ? "Log in to Aperture" : "Create your account"}</h1>
      <form class="auth" @submit=${(e: SubmitEvent) => this.#auth(e, mode)} aria-describedby="form-error">
        ${mode === "login"
          ? html`<label>Username or email <input name="login" autocomplete="username" required /></label>`
          : html`<label>Username <input name="username" autocomplete="username" required pattern="[A-Za-z0-9._]{1,30}" title="1–30 letters, digits, '.' or '_'" /></label>
            <label>Email <input name="email" type="email" autocomplete="email" required /></label>
            <label>Display name (optional) <input name="displayName" autocomplete="name" maxlength="64" /></label>`}
        <label>Password <input name="password" type="password" autocomplete=${mode === "login" ? "current-password" : "new-password"} required minlength=${mode === "login" ? 1 : 8} /></label>
        <div id="form-error" role="alert" tabindex="-1" class="error">${this.formError}</div>
        <button class="primary" type="submit" ?disabled=${this.submitting}>${mode === "login" ? "Log in" : "Sign up"}</button>
        <p class="muted">${mode === "login"
          ? html`New here? <a href="/signup">Create an account</a>`
          : html`Have an account? <a href="/login">Log in</a>`}</p>
      </form>`
  }

  #page(): TemplateResult {
    const r = this.route
    const needsAccount = r.name === "home" || r.name === "new" || r.name === "notifications" || r.name === "messages" || r.name === "admin" || r.name === "settings"
    if (r.name === "login" || r.name === "signup") return this.#authForm(r.name)
    if (needsAccount && !this.me) return this.#authForm("login")
    switch (r.name) {
      case "home":
        return html`<h1 tabindex="-1">Home</h1>
          <ap-story-tray .client=${this.client} theme=${this.theme ?? nothing}></ap-story-tray>
          <ap-feed .client=${this.client} theme=${this.theme ?? nothing}></ap-feed>`
      case "new":
        return html`<h1 tabindex="-1">New post</h1><ap-composer .client=${this.client} theme=${this.theme ?? nothing}></ap-composer>`
      case "notifications":
        return html`<h1 tabindex="-1">Notifications</h1><ap-notifications .client=${this.client} theme=${this.theme ?? nothing}></ap-notifications>`
      case "messages":
        return html`<h1 tabindex="-1">Messages</h1>
          <div class="messages ${r.id ? "open" : ""}">
            <ap-dm-inbox .client=${this.client} theme=${this.theme ?? nothing} selected=${r.id ?? nothing}></ap-dm-inbox>
            ${r.id
              ? html`<ap-dm-thread .client=${this.client} theme=${this.theme ?? nothing} conversation-id=${r.id}></ap-dm-thread>`
              : html`<p class="muted pick">Choose a conversation, or start one with the Message button on a profile.</p>`}
          </div>`
      case "admin":
        void loadInspector()
        return html`<h1 tabindex="-1">Actor inspector</h1><ap-actor-inspector .client=${this.client} theme=${this.theme ?? nothing}></ap-actor-inspector>`
      case "settings":
        void loadSettings()
        return html`<h1 tabindex="-1">Settings</h1><ap-settings .client=${this.client} theme=${this.theme ?? nothing}></ap-settings>`
      case "search":
        return html`<h1 tabindex="-1">Search</h1><ap-user-search .client=${this.client} theme=${this.theme ?? nothing}></ap-user-search>`
      case "profile":
        return html`<h1 tabindex="-1" class="visually-hidden">Profile of ${r.username}</h1>
          ${this.me ? html`<ap-story-tray .client=${this.client} theme=${this.theme ?? nothing} username=${r.username} no-add></ap-story-tray>` : nothing}
          <ap-profile .client=${this.client} theme=${this.theme ?? nothing} username=${r.username}></ap-profile>`
      case "post":
        return html`<h1 tabindex="-1" class="visually-hidden">Post</h1><ap-post .client=${this.client} theme=${this.theme ?? nothing} post-id=${r.id} open-comments></ap-post>`
      default:
        return html`<h1 tabindex="-1">Page not found</h1><p><a href="/">Go home</a></p>`
    }
  }

  override render() {
    return html`<a class="skip" href="#main" @click=${(e: Event) => {
      e.preventDefault()
      this.renderRoot.querySelector<HTMLElement>("main h1")?.focus()
    }}>Skip to content</a>
      <header part="header">
        <a class="brand" href="/">Aperture</a>
        ${this.ready ? this.#nav() : nothing}
      </header>
      <main id="main" part="main" class=${this.route.name === "messages" || this.route.name === "admin" ? "wide" : ""}>${this.ready ? this.#page() : html`<p class="muted" role="status">Loading…</p>`}</main>`
  }
}
