/**
 * The partition map: one cell per MAILBOX partition, coloured by the node leasing it (hatched when
 * nobody answered for it), with a legend. The cells are one tab stop (arrow keys move between
 * them); the focused or chosen cell is described in words under the map.
 */
import { html, nothing } from "lit"
import { repeat } from "lit/directives/repeat.js"
import type { ActorsOverview } from "../sdk/admin.ts"
import { count, nodeColor, until } from "./format.ts"

type Partition = ActorsOverview["partitions"][number]

export const describePartition = (p: Partition, now: string): string =>
  p.owner === null
    ? `Partition ${p.partition}: unowned`
    : `Partition ${p.partition}: ${p.owner}, epoch ${p.epoch ?? "—"}${p.state ? ` (${p.state})` : ""}, lease ends ${until(p.leaseExpiresAt, now)}, ` +
      `${count(p.actors)} actors, ${count(p.pending)} pending, ${count(p.ackPending)} ack pending, ${count(p.redelivered)} redelivered`

/** Partitions per owner (null: unowned), for the legend. */
const owners = (partitions: ReadonlyArray<Partition>): Array<[string | null, number]> => {
  const counts = new Map<string | null, number>()
  for (const p of partitions) counts.set(p.owner, (counts.get(p.owner) ?? 0) + 1)
  return [...counts].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)))
}

/** Arrow keys, Home and End move the focus between cells (up and down by a row of the grid as laid out). */
const onKey = (event: KeyboardEvent, choose: (partition: number) => void) => {
  const cells = Array.from((event.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>("button"))
  const i = cells.indexOf(event.target as HTMLButtonElement)
  if (i < 0) return
  const wrap = cells.findIndex((c) => c.offsetTop !== cells[0]!.offsetTop)
  const perRow = wrap <= 0 ? cells.length : wrap
  const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow, Home: -i, End: cells.length - 1 - i }
  const move = step[event.key]
  if (move === undefined) return
  event.preventDefault()
  const next = cells[Math.min(cells.length - 1, Math.max(0, i + move))]!
  choose(Number(next.dataset.partition))
  next.focus()
}

export const partitionMap = (overview: ActorsOverview, chosen: number | null, choose: (partition: number) => void) => {
  const { partitions, at } = overview
  const current = partitions.find((p) => p.partition === chosen) ?? partitions[0]
  return html`<section part="partitions" aria-labelledby="partitions-h">
    <h2 id="partitions-h">Partitions <span class="muted">(${partitions.length})</span></h2>
    <ul class="legend" part="legend" aria-label="Owners">
      ${owners(partitions).map(([node, n]) =>
        html`<li><span class="swatch ${node === null ? "unowned" : ""}" style=${node === null ? "" : `background:${nodeColor(node)}`}></span>${node ?? "unowned"} <span class="muted">${n}</span></li>`
      )}
    </ul>
    <div class="grid" part="partition-map" role="group" aria-label="Partition map" @keydown=${(e: KeyboardEvent) => onKey(e, choose)}>
      ${repeat(partitions, (p) => p.partition, (p) => {
        const label = describePartition(p, at)
        const busy = (p.pending ?? 0) + (p.ackPending ?? 0) > 0
        return html`<button type="button" part="cell" class="cell ${p.owner === null ? "unowned" : ""} ${busy ? "busy" : ""}" data-partition=${p.partition}
          data-owner=${p.owner ?? nothing} style=${p.owner === null ? "" : `background:${nodeColor(p.owner)}`} title=${label} aria-label=${label}
          aria-pressed=${p === current ? "true" : "false"} tabindex=${p === current ? 0 : -1} @click=${() => choose(p.partition)}></button>`
      })}
    </div>
    <p class="muted" part="partition-detail">${current ? describePartition(current, at) : "No partitions reported."}</p>
  </section>`
}
