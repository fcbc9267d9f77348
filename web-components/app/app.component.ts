import { html, nothing, type PropertyValues, type TemplateResult } from "lit"
import type { Me } from "../../src/domain/Accounts.ts"
import { describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import type { ApEvent } from "../shared/events.ts"
import { home, person, plus, search } from "../shared/icons.ts"
import { theme } from "../shared/theme.ts"
import "../dm-inbox/dm-inbox.ts"
import "../feed/feed.ts"
import "../notifications/notifications.ts"
import "../post/post.ts"
import "../story-tray/story-tray.ts"
import { styles } from "./app.styles.ts"
import { authError, type AuthField } from "./auth-errors.ts"
import { isAppPath, parseRoute, type Route } from "./routes.ts"
import { SIGNED_IN_HINT } from "./signed-in-hint.ts"

/** The inspector is for admins only: its code loads when /admin is first shown, not with the app (a chunk of its own). */
const loadInspector = () => import("../actor-inspector/actor-inspector.ts")
/** The settings page, like the inspector, is fetched when first opened: most visits never do. */
const loadSettings = () => import("../settings/settings.ts")
/** Followers, following and follow requests; saved posts: small screens, fetched when first opened. */
const loadPeople = () => import("../people/people.ts")
const loadSaved = () => import("../saved/saved.ts")
/**
 * The screens the home page does not show are chunks too, fetched when first opened: the first
 * photo waits for less code to download, compile and run (on a throttled phone, the main thread
 * running the app's code was most of the wait).
 */
const loadComposer = () => import("../composer/composer.ts")
const loadThread = () => import("../dm-thread/dm-thread.ts")
const loadProfile = () => import("../profile/profile.ts")
const loadSearch = () => import("../user-search/user-search.ts")
/** The chunks of those screens loaded so far: their elements are rendered only once defined. */
const loadedScreens = new Set<() => Promise<unknown>>()

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
  people: "People",
  requests: "Follow requests",
  saved: "Saved",
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
    isAdmin: { state: true },
    menuOpen: { state: true },
    fieldError: { state: true }
  }

  declare route: Route
  declare me: Me | null
  declare ready: boolean
  declare formError: string
  declare submitting: boolean
  /** Whether the signed-in account may use the inspector (it was answered, not refused). */
  declare isAdmin: boolean
  /** The header's "More" menu (saved, requests, settings, admin, log out). */
  declare menuOpen: boolean
  /** The sign-up or log-in error that belongs to one field (shown at it). */
  declare fieldError: { readonly field: AuthField; readonly message: string } | undefined
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
    this.menuOpen = false
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
        // the session is gone (expired, revoked elsewhere): so is the boot script's hint
        if (me === null && !this.client.rest.crossOrigin) document.cookie = `${SIGNED_IN_HINT}=; Path=/; Max-Age=0; SameSite=Lax`
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
    document.removeEventListener("click", this.#closeMenuOutside)
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
    this.menuOpen = false
    this.fieldError = undefined
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
    if (r.name === "people") return `${r.list === "followers" ? "Followers" : "Following"} · ${r.username}`
    if (r.name === "home" && !this.me) return "Log in"
    return TITLES[r.name]
  }

  async #auth(event: SubmitEvent, mode: "login" | "signup") {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const text = (k: string) => String(data.get(k) ?? "").trim()
    this.submitting = true
    this.formError = ""
    this.fieldError = undefined
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
      const { field, message } = authError(error, mode)
      if (field) this.fieldError = { field, message }
      else this.formError = message
      await this.updateComplete
      // focus goes to the field to fix, or to the form's message
      this.renderRoot.querySelector<HTMLElement>(field ? `form.auth [name=${field}]` : "#form-error")?.focus()
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

  /**
   * The main navigation. On wide screens one row in the header; on narrow ones the five everyday
   * destinations (Home, Search, New post, Activity, Profile) become a tab bar at the bottom, and
   * messages and the More menu stay in the header.
   */
  #nav() {
    const here = location.pathname
    const current = (path: string) => (here === path ? "page" : "false")
    const link = (path: string, label: string | TemplateResult) => html`<li><a href=${path} aria-current=${current(path)}>${label}</a></li>`
    const tab = (path: string, icon: TemplateResult, label: string) =>
      html`<li><a class="tab" href=${path} aria-current=${current(path)}>${icon}<span class="label">${label}</span></a></li>`
    if (!this.me) return html`<nav aria-label="Main"><ul>${link("/login", "Log in")}${link("/signup", "Sign up")}</ul></nav>`
    const profile = `/u/${this.me.username}`
    return html`<nav aria-label="Main">
      <ul class="tabs">
        ${tab("/", home(), "Home")}
        ${tab("/search", search(), "Search")}
        ${tab("/new", plus(), "New post")}
        <li><ap-notifications class="tab" variant="badge" label="Activity" .client=${this.client} theme=${this.theme ?? nothing}></ap-notifications></li>
        ${tab(profile, person(), "Profile")}
      </ul>
      <ul class="extra">
        <li><ap-dm-inbox variant="badge" .client=${this.client} theme=${this.theme ?? nothing}></ap-dm-inbox></li>
        <li class="more" @keydown=${this.#menuKey}>
          <button type="button" class="more-button" aria-expanded=${this.menuOpen ? "true" : "false"} aria-controls="app-menu" @click=${this.#toggleMenu}>More</button>
          ${this.menuOpen
            ? html`<ul id="app-menu" class="menu">
              ${link("/saved", "Saved")}
              ${link("/requests", "Follow requests")}
              ${link("/settings", "Settings")}
              ${this.isAdmin ? link("/admin", "Admin") : nothing}
              <li><button type="button" @click=${this.#logout}>Log out</button></li>
            </ul>`
            : nothing}
        </li>
      </ul>
    </nav>`
  }

  #toggleMenu = () => {
    this.menuOpen = !this.menuOpen
    if (this.menuOpen) {
      document.addEventListener("click", this.#closeMenuOutside)
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>("#app-menu a")?.focus())
    } else document.removeEventListener("click", this.#closeMenuOutside)
  }

  #closeMenuOutside = (event: MouseEvent) => {
    const more = this.renderRoot.querySelector(".more")
    if (more && !event.composedPath().includes(more)) {
      this.menuOpen = false
      document.removeEventListener("click", this.#closeMenuOutside)
    }
  }

  #menuKey = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || !this.menuOpen) return
    this.menuOpen = false
    this.renderRoot.querySelector<HTMLElement>(".more-button")?.focus()
  }

  /**
   * A screen whose code is a chunk: rendered once the chunk is in (so its element is created
   * defined, with its attributes read as usual), a skeleton while it downloads; a chunk that
   * failed to load says so and is asked for again on the next render.
   */
  #lazy(load: () => Promise<unknown>, view: () => TemplateResult): TemplateResult {
    if (loadedScreens.has(load)) return view()
    if (this.#failedScreen === load) {
      return html`<p role="alert">Could not load this page. Check your connection.
        <button @click=${() => ((this.#failedScreen = undefined), this.requestUpdate())}>Try again</button></p>`
    }
    load().then(
      () => {
        loadedScreens.add(load)
        this.requestUpdate()
      },
      () => {
        this.#failedScreen = load
        this.requestUpdate()
      }
    )
    return html`<div class="screen-loading" aria-busy="true"><span class="visually-hidden" role="status">Loading…</span></div>`
  }
  #failedScreen: (() => Promise<unknown>) | undefined

  #authForm(mode: "login" | "signup") {
    const err = this.fieldError
    /** aria-invalid and the error's id on the field it concerns. */
    const at = (field: AuthField) => (err?.field === field ? { invalid: "true", describedby: `${field}-error` } : { invalid: "false", describedby: undefined })
    const message = (field: AuthField) =>
      html`<span class="field-error" id="${field}-error" ?hidden=${err?.field !== field}>${err?.field === field ? err.message : ""}</span>`
    const u = at("username")
    const e = at("email")
    const d = at("displayName")
    const p = at("password")
    const l = at("login")
    return html`<h1 tabindex="-1">${mode === "login" ? "Log in to Aperture" : "Create your account"}</h1>
      <form class="auth" @submit=${(ev: SubmitEvent) => this.#auth(ev, mode)} aria-describedby="form-error">
        ${mode === "login"
          ? html`<label>Username or email <input name="login" autocomplete="username" required aria-invalid=${l.invalid} aria-describedby=${l.describedby ?? nothing} />${message("login")}</label>`
          : html`<label>Username <input name="username" autocomplete="username" required pattern="[A-Za-z0-9._]{1,30}" title="1–30 letters, digits, '.' or '_'" aria-invalid=${u.invalid} aria-describedby=${u.describedby ?? nothing} />${message("username")}</label>
            <label>Email <input name="email" type="email" autocomplete="email" required aria-invalid=${e.invalid} aria-describedby=${e.describedby ?? nothing} />${message("email")}</label>
            <label>Display name (optional) <input name="displayName" autocomplete="name" maxlength="64" aria-invalid=${d.invalid} aria-describedby=${d.describedby ?? nothing} />${message("displayName")}</label>`}
        <label>Password <input name="password" type="password" autocomplete=${mode === "login" ? "current-password" : "new-password"} required minlength=${mode === "login" ? 1 : 8} aria-invalid=${p.invalid} aria-describedby=${p.describedby ?? nothing} />${message("password")}</label>
        <div id="form-error" role="alert" tabindex="-1" class="error">${this.formError}</div>
        <button class="primary" type="submit" ?disabled=${this.submitting}>${mode === "login" ? "Log in" : "Sign up"}</button>
        <p class="muted">${mode === "login"
          ? html`New here? <a href="/signup">Create an account</a>`
          : html`Have an account? <a href="/login">Log in</a>`}</p>
      </form>`
  }

  #page(): TemplateResult {
    const r = this.route
    const needsAccount = r.name === "home" || r.name === "new" || r.name === "notifications" || r.name === "messages" || r.name === "admin" ||
      r.name === "settings" || r.name === "requests" || r.name === "saved"
    if (r.name === "login" || r.name === "signup") return this.#authForm(r.name)
    if (needsAccount && !this.me) return this.#authForm("login")
    switch (r.name) {
      case "home":
        return html`<h1 tabindex="-1">Home</h1>
          <ap-story-tray .client=${this.client} theme=${this.theme ?? nothing}></ap-story-tray>
          <ap-feed .client=${this.client} theme=${this.theme ?? nothing}></ap-feed>`
      case "new":
        return html`<h1 tabindex="-1">New post</h1>${this.#lazy(loadComposer, () => html`<ap-composer .client=${this.client} theme=${this.theme ?? nothing}></ap-composer>`)}`
      case "notifications":
        return html`<h1 tabindex="-1">Notifications</h1><ap-notifications .client=${this.client} theme=${this.theme ?? nothing}></ap-notifications>`
      case "messages":
        return html`<h1 tabindex="-1">Messages</h1>
          <div class="messages ${r.id ? "open" : ""}">
            <ap-dm-inbox .client=${this.client} theme=${this.theme ?? nothing} selected=${r.id ?? nothing}></ap-dm-inbox>
            ${r.id
              ? this.#lazy(loadThread, () => html`<ap-dm-thread .client=${this.client} theme=${this.theme ?? nothing} conversation-id=${r.id!}></ap-dm-thread>`)
              : html`<p class="muted pick">Choose a conversation, or start one with the Message button on a profile.</p>`}
          </div>`
      case "admin":
        void loadInspector()
        return html`<h1 tabindex="-1">Actor inspector</h1><ap-actor-inspector .client=${this.client} theme=${this.theme ?? nothing}></ap-actor-inspector>`
      case "settings":
        void loadSettings()
        return html`<h1 tabindex="-1">Settings</h1><ap-settings .client=${this.client} theme=${this.theme ?? nothing}></ap-settings>`
      case "requests":
        void loadPeople()
        return html`<h1 tabindex="-1">Follow requests</h1><ap-people list="requests" .client=${this.client} theme=${this.theme ?? nothing}></ap-people>`
      case "people":
        void loadPeople()
        return html`<h1 tabindex="-1">${r.list === "followers" ? "Followers" : "Following"}</h1>
          <p class="back"><a href="/u/${encodeURIComponent(r.username)}">← ${r.username}</a></p>
          <ap-people list=${r.list} username=${r.username} .client=${this.client} theme=${this.theme ?? nothing}></ap-people>`
      case "saved":
        void loadSaved()
        return html`<h1 tabindex="-1">Saved</h1><ap-saved .client=${this.client} theme=${this.theme ?? nothing}></ap-saved>`
      case "search":
        return html`<h1 tabindex="-1">Search</h1>${this.#lazy(loadSearch, () => html`<ap-user-search .client=${this.client} theme=${this.theme ?? nothing}></ap-user-search>`)}`
      case "profile":
        return html`<h1 tabindex="-1" class="visually-hidden">Profile of ${r.username}</h1>
          ${this.me ? html`<ap-story-tray .client=${this.client} theme=${this.theme ?? nothing} username=${r.username} no-add></ap-story-tray>` : nothing}
          ${this.#lazy(loadProfile, () => html`<ap-profile .client=${this.client} theme=${this.theme ?? nothing} username=${r.username}></ap-profile>`)}`
      case "post":
        return html`<h1 tabindex="-1" class="visually-hidden">Post</h1><ap-post .client=${this.client} theme=${this.theme ?? nothing} post-id=${r.id} open-comments
          @ap-post-delete=${() => this.client.me && this.go(`/u/${this.client.me.username}`, true)}></ap-post>`
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
