/**
 * What every Aperture element shares: the `api` and `token` attributes, the client they select,
 * theme, and a typed `emit` for the namespaced events.
 */
import { LitElement } from "lit"
import { type ApertureClient, clientFor } from "../sdk/client.ts"
import { embedTokenOf } from "../sdk/embed.ts"
import type { ApEventDetails } from "./events.ts"

export class ApElement extends LitElement {
  static override properties = {
    api: { type: String },
    token: { type: String },
    theme: { type: String, reflect: true }
  }

  /** The Aperture origin (e.g. `https://photos.example`); empty for this page's own. */
  declare api: string | undefined
  /** An embed token (`ape_…`) for a widget that acts for someone; a session token is refused (see sdk/embed.ts). */
  declare token: string | undefined
  /** `light`, `dark`, or unset to follow the user's preference. */
  declare theme: string | undefined
  #client: ApertureClient | undefined

  /** The client for `api` and `token`; may be set directly (tests, apps with their own). */
  get client(): ApertureClient {
    return this.#client ?? clientFor(this.api, embedTokenOf(this.token))
  }
  set client(client: ApertureClient) {
    this.#client = client
  }

  protected emit<K extends keyof ApEventDetails>(type: K, detail: ApEventDetails[K], cancelable = false): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }))
  }

  /** Goes to an app path: the app (if any) handles `ap-navigate`; otherwise the browser navigates. */
  protected navigate(path: string): void {
    if (this.emit("ap-navigate", { path }, true)) location.assign(this.client.rest.pageUrl(path))
  }
}
