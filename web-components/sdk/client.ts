/**
 * One client per (api origin, token): the REST client, the live socket (opened while some
 * component listens and someone is signed in), and who is signed in. Components find theirs with
 * `clientFor`, so every widget on a page shares one socket.
 */
import type { Me } from "../../src/domain/Accounts.ts"
import { Emitter } from "./emitter.ts"
import { ApiError, RestClient } from "./rest.ts"
import { LiveSocket } from "./socket.ts"

export interface ClientOptions {
  readonly api?: string | undefined
  readonly token?: string | undefined
  readonly WebSocket?: typeof WebSocket
}

export interface ClientEvents {
  /** The signed-in account changed: signed in, out, or found out which. */
  readonly session: Me | null
}

export class ApertureClient extends Emitter<ClientEvents> {
  readonly rest: RestClient
  readonly socket: LiveSocket
  /** undefined until known. */
  me: Me | null | undefined
  #session: Promise<Me | null> | undefined
  #listeners = 0

  constructor(options: ClientOptions = {}) {
    super()
    this.rest = new RestClient(options)
    this.socket = new LiveSocket({
      url: async () => {
        const base = new URL(this.rest.base || location.origin, location.href)
        const ws = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}/ws`
        // a cookie reaches the socket only on our own origin; elsewhere a single-use ticket does
        if (!this.rest.token && !this.rest.crossOrigin) return ws
        const { ticket } = await this.rest.wsTicket()
        return `${ws}?ticket=${encodeURIComponent(ticket)}`
      },
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {})
    })
    if (typeof window !== "undefined") {
      window.addEventListener("online", () => this.socket.reconnectNow())
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") this.socket.reconnectNow()
      })
    }
  }

  /** Who is signed in (asked once; `null` when nobody is). */
  session(): Promise<Me | null> {
    // on another origin without a token nobody can be signed in: no need to ask (and log a 401)
    if (this.#session === undefined && this.rest.crossOrigin && !this.rest.token) this.#session = Promise.resolve(this.#setMe(null))
    this.#session ??= this.rest.session().then(
      (state) => this.#setMe(state.user),
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) return this.#setMe(null)
        this.#session = undefined
        throw error
      }
    )
    return this.#session
  }

  async signup(input: { username: string; email: string; password: string; displayName?: string }) {
    const result = await this.rest.signup(input)
    this.#signedIn(result.user, result.token)
    return result.user
  }

  async login(input: { login: string; password: string }) {
    const result = await this.rest.login(input)
    this.#signedIn(result.user, result.token)
    return result.user
  }

  async logout() {
    try {
      await this.rest.logout()
    } finally {
      this.socket.stop()
      this.socket.lastSeq = undefined
      this.#session = Promise.resolve(this.#setMe(null))
    }
  }

  /** Edits the signed-in account (display name, bio, privacy); everyone listening learns the new one. */
  async updateMe(input: { displayName?: string; bio?: string; isPrivate?: boolean }) {
    return this.#setMe(await this.rest.updateMe(input))
  }

  /** A component starts listening to live frames; the socket runs while anyone listens. */
  listen(): () => void {
    this.#listeners++
    if (this.#listeners === 1) {
      void this.session().then((me) => {
        // an embed token gets no socket ticket (its scope is REST reads): such widgets are not live
        if (me && this.#listeners > 0 && !this.rest.token?.startsWith("ape_")) this.socket.start()
      }, () => undefined)
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.#listeners--
      if (this.#listeners === 0) this.socket.stop()
    }
  }

  #signedIn(me: Me, token: string) {
    // on another origin the token is how later calls authenticate; here the cookie does
    if (this.rest.crossOrigin) this.rest.token = token
    this.socket.lastSeq = undefined
    this.#session = Promise.resolve(this.#setMe(me))
    if (this.#listeners > 0) {
      this.socket.stop()
      this.socket.start()
    }
  }

  #setMe(me: Me | null): Me | null {
    this.me = me
    this.emit("session", me)
    return me
  }
}

const clients = new Map<string, ApertureClient>()

/** The shared client for an API origin and token (empty origin: this page's). */
export const clientFor = (api?: string | null, token?: string | null): ApertureClient => {
  const key = `${api ?? ""}\n${token ?? ""}`
  let client = clients.get(key)
  if (client === undefined) {
    client = new ApertureClient({ api: api ?? undefined, token: token ?? undefined })
    clients.set(key, client)
  }
  return client
}

/**
 * Parts of the client only some widgets use — `dm` (sdk/dm.ts), `stories` (sdk/stories.ts),
 * `admin` (sdk/admin.ts) — attach themselves as a property built on first use when their module
 * is imported, so a page that shows only `<ap-post>` downloads none of them. A component that uses
 * one imports its module.
 */
export const extendClient = <T>(name: string, make: (client: ApertureClient) => T): void => {
  const built = new WeakMap<ApertureClient, T>()
  Object.defineProperty(ApertureClient.prototype, name, {
    configurable: true,
    get(this: ApertureClient) {
      let part = built.get(this)
      if (part === undefined) built.set(this, (part = make(this)))
      return part
    }
  })
}
