/** The hottest actors across the cluster, by the figure chosen; a row opens the actor. */
import { html } from "lit"
import { repeat } from "lit/directives/repeat.js"
import type { ActorsOverview, ActorSummary } from "../sdk/admin.ts"
import { ago, count, nodeColor } from "./format.ts"

export type HotBy = keyof ActorsOverview["top"]

export const HOT_BY: ReadonlyArray<readonly [HotBy, string]> = [
  ["mailboxDepth", "Mailbox depth"],
  ["handled", "Commands handled"],
  ["restarts", "Restarts"],
  ["lastActivity", "Last activity"]
]

export const hotActors = (o: ActorsOverview, by: HotBy, setBy: (by: HotBy) => void, open: (a: ActorSummary) => void) => {
  const rows = o.top[by]
  return html`<section part="hot" aria-labelledby="hot-h">
    <h2 id="hot-h">Hot actors</h2>
    <label class="inline">Hottest by
      <select @change=${(e: Event) => setBy((e.target as HTMLSelectElement).value as HotBy)}>
        ${HOT_BY.map(([value, label]) => html`<option value=${value} ?selected=${value === by}>${label}</option>`)}
      </select>
    </label>
    ${rows.length === 0 ? html`<p class="muted">No live actors.</p>` : html`<div class="scroll-x"><table class="hot">
      <thead><tr><th scope="col">Kind</th><th scope="col">Key</th><th scope="col">Node</th><th scope="col" class="n">Partition</th>
        <th scope="col" class="n">Mailbox</th><th scope="col" class="n">Handled</th><th scope="col" class="n">Restarts</th><th scope="col">Last activity</th></tr></thead>
      <tbody>${repeat(rows, (a) => `${a.kind}/${a.key}`, (a) =>
        html`<tr part="hot-row" class=${a.parked ? "parked" : ""} @click=${(e: Event) => {
          // the key's button opens it too: one open per click
          if (!(e.target as Element).closest("button")) open(a)
        }}>
          <td>${a.kind}</td>
          <td><button type="button" class="link" part="open" data-actor="${a.kind}/${a.key}" aria-label="Open ${a.kind} ${a.key}" @click=${() => open(a)}>${a.key}</button>${a.parked ? html` <span class="tag">parked</span>` : ""}</td>
          <td class="node"><span class="swatch" style="background:${nodeColor(a.node)}"></span>${a.node}</td>
          <td class="n">${a.partition}</td><td class="n">${count(a.mailboxDepth)}</td><td class="n">${count(a.handled)}</td><td class="n">${count(a.restarts)}</td>
          <td>${ago(a.lastActivity, o.at)}</td>
        </tr>`
      )}</tbody>
    </table></div>`}
  </section>`
}
