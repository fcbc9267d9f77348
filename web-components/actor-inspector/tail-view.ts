/**
 * The live tail: the filter form, Pause/Resume and Clear, the counts (a polite live region that
 * changes once a second at most, never per row), rates per kind and event, and the rows, newest
 * first. Only the rows in and near the scroller's view are in the DOM (spacers stand for the rest):
 * laying out all 500 rows of a table on every frame is what made a busy tail janky.
 */
import { html, nothing } from "lit"
import { repeat } from "lit/directives/repeat.js"
import type { ObserveStats, Tap } from "../sdk/admin.ts"
import { clock, count, describeFilter } from "./format.ts"
import type { TailRow } from "./tail-buffer.ts"
import type { TailController } from "./tail-controller.ts"

export interface TailActions {
  readonly apply: (form: HTMLFormElement) => void
  readonly togglePause: () => void
  readonly clear: () => void
  readonly scrolled: (scroller: HTMLElement) => void
}

/** Where the tail's scroller is: its scroll offset, its height and one row's, in pixels (0: not measured yet). */
export interface TailScroll {
  readonly top: number
  readonly viewport: number
  readonly rowPx: number
}

/** Rows rendered beyond each edge of the view, so a quick scroll does not show blank space first. */
const OVERSCAN = 10

/** Which rows to render of `total`, and the spacers' heights standing for those left out. */
export const tailWindow = (scroll: TailScroll, total: number) => {
  const px = scroll.rowPx || 26
  const view = scroll.viewport || 600
  const start = Math.min(total, Math.max(0, Math.floor(scroll.top / px) - OVERSCAN))
  const end = Math.min(total, Math.ceil((scroll.top + view) / px) + OVERSCAN)
  return { start, end, before: start * px, after: (total - end) * px }
}

/** What the counts region says: read once a second (with `observe_stats`), so it is not chatty. */
export const tailStatus = (tail: TailController): string => {
  if (tail.state === "refused") return tail.refusal?.code === "Forbidden" ? "The live tail is for admins only." : `The server refused the filter: ${tail.refusal?.message ?? ""}`
  if (tail.state === "off") return "The live tail is off."
  if (tail.state === "connecting") return "Connecting the live tail…"
  const b = tail.buffer
  const parts = [
    `Tailing ${describeFilter(tail.filter)}${tail.maxPerSecond === null ? "" : `, at most ${count(tail.maxPerSecond)} a second`}.`,
    `${count(b.received)} received.`,
    b.paused ? `Paused: ${count(b.whilePaused)} arrived while paused.` : "",
    tail.stats ? `${count(tail.stats.dropped)} dropped in the last second.` : ""
  ]
  return parts.filter((p) => p !== "").join(" ")
}

const rates = (stats: ObserveStats | null) => {
  if (stats === null) return nothing
  const all = [...Object.entries(stats.perKind), ...Object.entries(stats.perEvent)].sort((a, b) => b[1] - a[1])
  return html`<ul class="rates" part="rates" aria-label="Matching per second">
    ${all.map(([name, n]) => html`<li><span class="name">${name}</span> ${count(n)}/s</li>`)}
    <li>sent ${count(stats.sent)}/s</li>
    <li class=${stats.dropped > 0 ? "warn" : ""}>dropped ${count(stats.dropped)}/s</li>
  </ul>`
}

const row = (tap: Tap) =>
  tap.source === "actor"
    ? html`<td>${clock(tap.at)}</td><td>${tap.kind}</td><td title=${tap.keys ? tap.keys.join(", ") : nothing}>${tap.key}${tap.keys && tap.keys.length > 1 ? ` +${tap.keys.length - 1}` : ""}</td>
      <td>${tap.tag}</td><td><span class="outcome">${tap.outcome}</span></td><td class="n">${tap.durationMs < 10 ? tap.durationMs.toFixed(1) : Math.round(tap.durationMs)}</td><td>${tap.node}</td><td class="n">${tap.partition}</td>`
    : html`<td>${clock(tap.at)}</td><td>event</td><td>${tap.id}</td><td>${tap.type}</td><td></td><td></td><td>${tap.node}</td><td></td>`

export const tailView = (tail: TailController, status: string, filterError: string, scroll: TailScroll, actions: TailActions) => {
  const b = tail.buffer
  const w = tailWindow(scroll, b.rows.length)
  return html`<section part="tail" aria-labelledby="tail-h">
    <h2 id="tail-h" tabindex="-1">Live tail</h2>
    <form class="filter" part="filter" aria-describedby="filter-error" @submit=${(e: SubmitEvent) => {
      e.preventDefault()
      actions.apply(e.target as HTMLFormElement)
    }}>
      <label>Kinds <input name="kinds" placeholder="timeline, conversation" autocomplete="off" /></label>
      <label>Keys <input name="keys" placeholder="any" autocomplete="off" /></label>
      <label>Events <input name="events" placeholder="post.*, story.>" autocomplete="off" /></label>
      <label>Sample <input name="sample" type="number" min="0.01" max="1" step="0.01" placeholder="1" /></label>
      <button type="submit" class="primary">Apply</button>
    </form>
    <p id="filter-error" role="alert" class="error">${filterError}</p>
    <div class="bar">
      <button type="button" part="pause" @click=${actions.togglePause}>${b.paused ? "Resume" : "Pause"}</button>
      <button type="button" part="clear" @click=${actions.clear}>Clear</button>
      ${b.paused ? html`<span class="paused" aria-hidden="true">${count(b.whilePaused)} new while paused</span>` : nothing}
    </div>
    <p role="status" aria-atomic="true" part="tail-status" class=${tail.state === "refused" ? "error" : "muted"}>${status}</p>
    ${rates(tail.stats)}
    <div class="rows" role="region" aria-label="Tail rows" tabindex="0" @scroll=${(e: Event) => actions.scrolled(e.currentTarget as HTMLElement)}>
      <table part="tail-rows" aria-rowcount=${b.rows.length + 1}>
        <caption class="visually-hidden">Live tail, newest first (at most ${b.capacity} rows)</caption>
        <thead><tr aria-rowindex="1"><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Key / id</th><th scope="col">Command / event</th>
          <th scope="col">Outcome</th><th scope="col" class="n">ms</th><th scope="col">Node</th><th scope="col" class="n">Partition</th></tr></thead>
        <tbody>
          ${w.before > 0 ? html`<tr class="pad" aria-hidden="true" style="height:${w.before}px"></tr>` : nothing}
          ${repeat(b.rows.slice(w.start, w.end), (r: TailRow) => r.id, (r: TailRow, i) =>
            html`<tr class="tap ${r.tap.source === "actor" ? r.tap.outcome : "event"}" aria-rowindex=${w.start + i + 2}>${row(r.tap)}</tr>`)}
          ${w.after > 0 ? html`<tr class="pad" aria-hidden="true" style="height:${w.after}px"></tr>` : nothing}
        </tbody>
      </table>
      ${b.rows.length === 0 ? html`<p class="muted empty">${b.paused ? "Paused." : "Nothing yet: rows appear here as commands are handled and events published."}</p>` : nothing}
    </div>
  </section>`
}
