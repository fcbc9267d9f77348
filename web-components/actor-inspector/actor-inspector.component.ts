import { html, nothing, type PropertyValues } from "lit"
import { guard } from "lit/directives/guard.js"
import type { ActorDetail, ActorsOverview, ActorSummary, ObserveFilter } from "../sdk/admin.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { theme } from "../shared/theme.ts"
import { actorDetail } from "./actor-detail.ts"
import { styles } from "./actor-inspector.styles.ts"
import { kindsView, nodesView, streamsView } from "./cluster-view.ts"
import { filterOf } from "./format.ts"
import { type HotBy, hotActors } from "./hot-actors.ts"
import { partitionMap } from "./partition-map.ts"
import { PollController } from "./poll-controller.ts"
import { TailController } from "./tail-controller.ts"
import { type TailScroll, tailStatus, tailView } from "./tail-view.ts"
import "../sdk/admin.ts"

interface ActorRef {
  readonly kind: string
  readonly key: string
}

/**
 * @summary The actor inspector, for admins and the engineers on call: the MAILBOX partition map
 * coloured by the node leasing each partition, the nodes (heartbeat, roles, version, load) and
 * those not answering, actor kinds, the hottest actors (by mailbox depth, commands handled,
 * restarts or last activity), one actor's page (state, recent commands, its consumer) and a live
 * tail of actor commands and domain events over the socket, filtered by kind, key and event glob,
 * sampled, with Pause and Clear. The overview is polled every `interval` ms while the page is
 * visible; the tail streams, rendered at most once per animation frame, bounded to the newest
 * `tail-rows`, of which only those near the view are in the DOM. Someone who is not an admin sees
 * "admins only" (the API answers 403).
 *
 * @attr interval - Milliseconds between polls of the overview (or the open actor), default 2000.
 * @attr limit - Actors per hot list, 1–100 (default 20).
 * @attr tail-rows - Rows the tail keeps, default 500.
 *
 * @csspart partitions - The partition map section.
 * @csspart partition-map - The grid of cells.
 * @csspart cell - One partition (a button; `data-owner` names its node).
 * @csspart legend - Which colour is which node.
 * @csspart nodes - The nodes table; `missing` the nodes not answering.
 * @csspart hot - The hot actors table; `hot-row` a row, `open` its button.
 * @csspart detail - An actor's page; `state` its JSON, `recent` its commands, `back` and `tail-actor` its buttons.
 * @csspart tail - The live tail; `filter`, `pause`, `clear`, `tail-status`, `rates` and `tail-rows` inside it.
 * @csspart forbidden - The "admins only" message.
 * @csspart error - A failed poll (the last answer stays shown).
 *
 * @cssprop --ap-inspector-cell - The size of a partition cell (default 22px).
 * @cssprop --ap-inspector-unowned - The hatching of a partition nobody answered for.
 * @cssprop --ap-inspector-tail-height - The height of the tail's rows (default 26em).
 * @cssprop --ap-inspector-warn - Not-answering nodes, drops and failed commands.
 *
 * @fires ap-error - Loading failed (once per distinct message, not every poll).
 */
export class ApActorInspector extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    interval: { type: Number },
    limit: { type: Number },
    tailRows: { type: Number, attribute: "tail-rows" },
    overview: { state: true },
    opened: { state: true },
    detail: { state: true },
    hotBy: { state: true },
    partition: { state: true },
    error: { state: true },
    filterError: { state: true },
    forbidden: { state: true }
  }

  declare interval: number
  declare limit: number
  declare tailRows: number
  declare overview: ActorsOverview | null
  /** The actor whose page is shown (null: the overview). */
  declare opened: ActorRef | null
  declare detail: ActorDetail | null
  declare hotBy: HotBy
  declare partition: number | null
  declare error: string
  /** What is wrong with the tail form (nothing is sent until it is right). */
  declare filterError: string
  declare forbidden: boolean
  readonly tail: TailController
  readonly #poll: PollController
  #generation = 0
  /** The generation of the answer shown now. */
  #applied = 0
  /** The request in flight, aborted when what is shown switches (overview ↔ an actor). */
  #asking: AbortController | undefined
  /** What the tail's live region says, and what it was computed from (see `willUpdate`). */
  #status = ""
  #statusKey = ""
  #statusStats: unknown = null
  /** The tail's scroller, as last seen (its rows are windowed to what it shows). */
  #scroll: TailScroll = { top: 0, viewport: 0, rowPx: 0 }
  #scrollQueued = false
  /** The row that opened the actor's page, focused again on Back. */
  #openedFrom = ""

  constructor() {
    super()
    this.interval = 2000
    this.limit = 20
    this.tailRows = 500
    this.overview = null
    this.opened = null
    this.detail = null
    this.hotBy = "mailboxDepth"
    this.partition = null
    this.error = ""
    this.filterError = ""
    this.forbidden = false
    this.tail = new TailController(this, (error) => {
      if (error.code === "Forbidden") this.#refuse()
    })
    this.#poll = new PollController(this, () => this.interval, () => this.refresh())
  }

  /** Asks for the overview (or the open actor) now; the poll does this every `interval`. */
  async refresh(): Promise<void> {
    const generation = ++this.#generation
    const opened = this.opened
    const asking = (this.#asking = new AbortController())
    const { signal } = asking
    try {
      // an answer is kept when it is for what is shown and newer than the one shown: on a busy server
      // answers can take longer than the poll's interval, and dropping every one but the latest
      // asked would never show anything
      if (opened) {
        const detail = await this.client.admin.actor(opened.kind, opened.key, signal)
        if (this.opened !== opened || generation < this.#applied) return
        this.#applied = generation
        this.detail = detail
      } else {
        const overview = await this.client.admin.actors({ limit: Math.min(100, Math.max(1, Math.round(this.limit))) }, signal)
        if (this.opened !== null || generation < this.#applied) return
        this.#applied = generation
        this.overview = overview
        // an admin, then: the tail starts with the first answer
        if (this.tail.state === "off" && !this.forbidden) this.tail.start()
      }
      this.error = ""
    } catch (error) {
      if (signal.aborted || generation !== this.#generation) return
      if (error instanceof ApiError && error.status === 403) return this.#refuse()
      const message = describeError(error)
      if (message !== this.error) this.emit("ap-error", { message, status: error instanceof ApiError ? error.status : undefined, code: error instanceof ApiError ? error.code : undefined })
      this.error = message
    }
  }

  /** Shows one actor's page (and polls it instead of the overview). */
  open(actor: ActorRef): void {
    this.#openedFrom = `${actor.kind}/${actor.key}`
    this.opened = { kind: actor.kind, key: actor.key }
    this.detail = null
    // a slow overview in flight would hold the actor's page back until it answered
    this.#asking?.abort()
    this.#poll.now()
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>("#detail-h")?.focus())
  }

  back(): void {
    this.opened = null
    this.detail = null
    this.#asking?.abort()
    this.#poll.now()
    void this.updateComplete.then(() => {
      const from = Array.from(this.renderRoot.querySelectorAll<HTMLElement>("[part=open]")).find((b) => b.dataset.actor === this.#openedFrom)
      ;(from ?? this.renderRoot.querySelector<HTMLElement>("#hot-h"))?.focus()
    })
  }

  /** Tails `filter` (the form shows it), from the first row again. */
  tailFilter(filter: ObserveFilter): void {
    this.filterError = ""
    this.tail.buffer.resume()
    this.tail.buffer.clear()
    this.tail.start(filter)
    void this.updateComplete.then(() => this.#fillForm(filter))
  }

  #refuse() {
    this.forbidden = true
    this.#poll.stop()
    this.tail.stop()
  }

  #fillForm(filter: ObserveFilter) {
    const form = this.renderRoot.querySelector<HTMLFormElement>("form.filter")
    if (!form) return
    const set = (name: string, value: string) => ((form.elements.namedItem(name) as HTMLInputElement).value = value)
    set("kinds", (filter.kinds ?? []).join(", "))
    set("keys", (filter.keys ?? []).join(", "))
    set("events", (filter.events ?? []).join(", "))
    set("sample", filter.sample === undefined ? "" : String(filter.sample))
  }

  #apply = (form: HTMLFormElement) => {
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value
    const filter = filterOf({ kinds: value("kinds"), keys: value("keys"), events: value("events"), sample: value("sample") })
    this.filterError = typeof filter === "string" ? filter : ""
    if (typeof filter !== "string") this.tailFilter(filter)
  }

  #tailActor = (d: ActorDetail) => {
    this.tailFilter({ kinds: [d.kind], keys: [d.key] })
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>("#tail-h")?.focus())
  }

  #togglePause = () => {
    if (this.tail.buffer.paused) this.tail.buffer.resume()
    else this.tail.buffer.pause()
    this.requestUpdate()
  }

  #clear = () => {
    this.tail.buffer.clear()
    this.requestUpdate()
  }

  #scrolled = (scroller: HTMLElement) => {
    this.#scroll = { ...this.#scroll, top: scroller.scrollTop, viewport: scroller.clientHeight }
    if (this.#scrollQueued) return
    this.#scrollQueued = true
    requestAnimationFrame(() => {
      this.#scrollQueued = false
      this.requestUpdate()
    })
  }

  #setHotBy = (by: HotBy) => (this.hotBy = by)
  #choosePartition = (p: number) => (this.partition = p)
  #open = (a: ActorSummary) => this.open(a)
  #back = () => this.back()

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("tailRows")) this.tail.buffer.capacity = Math.max(1, this.tailRows)
    // the counts region is a live region: it changes with the server's once-a-second stats, not per row
    const t = this.tail
    const key = `${t.state}|${t.buffer.paused}|${JSON.stringify(t.filter)}|${t.maxPerSecond}|${t.refusal?.code ?? ""}|${t.buffer.received === 0}`
    if (key !== this.#statusKey || this.#statusStats !== t.stats) {
      this.#statusKey = key
      this.#statusStats = t.stats
      this.#status = tailStatus(t)
    }
  }

  protected override updated(): void {
    // measured once (one forced layout), the first time there is a row to measure
    if (this.#scroll.rowPx > 0) return
    const row = this.renderRoot.querySelector<HTMLElement>("tr.tap")
    const scroller = this.renderRoot.querySelector<HTMLElement>(".rows")
    if (row && scroller && row.offsetHeight > 0) this.#scroll = { top: scroller.scrollTop, viewport: scroller.clientHeight, rowPx: row.offsetHeight }
  }

  #overview(o: ActorsOverview) {
    return html`
      ${guard([o, this.partition], () => partitionMap(o, this.partition, this.#choosePartition))}
      ${guard([o], () => nodesView(o))}
      ${guard([o, this.hotBy], () => hotActors(o, this.hotBy, this.#setHotBy, this.#open))}
      ${guard([o], () => html`${kindsView(o)}${streamsView(o)}`)}`
  }

  override render() {
    if (this.forbidden) {
      return html`<p role="alert" class="forbidden" part="forbidden"><strong>Admins only.</strong> The actor inspector needs an admin account; yours is not one.</p>`
    }
    const o = this.overview
    return html`
      ${this.error ? html`<p role="alert" class="error" part="error">${this.error}${o ? " Showing the last answer." : ""}</p>` : nothing}
      ${o && !this.opened ? html`<p class="muted updated">Updated ${new Date(o.at).toLocaleTimeString()} by ${o.askedBy}</p>` : nothing}
      ${this.opened
        ? guard([this.opened, this.detail], () => actorDetail(this.opened!, this.detail, { back: this.#back, tail: this.#tailActor }))
        : o ? this.#overview(o) : this.error ? nothing : html`<p class="muted" role="status">Loading the cluster…</p>`}
      ${this.tail.state === "off" && this.tail.buffer.received === 0 ? nothing : tailView(this.tail, this.#status, this.filterError, this.#scroll, { apply: this.#apply, togglePause: this.#togglePause, clear: this.#clear, scrolled: this.#scrolled })}`
  }
}
