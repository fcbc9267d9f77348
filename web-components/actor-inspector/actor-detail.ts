/** One actor's page: where it lives, its figures, its state as JSON and its recent commands. */
import { html, nothing } from "lit"
import type { ActorDetail } from "../sdk/admin.ts"
import { count, duration } from "./format.ts"

const when = (iso: string | null) => (iso === null ? "—" : html`<time datetime=${iso}>${new Date(iso).toLocaleString()}</time>`)

/** The described state, indented; `undefined` and cycles cannot come from JSON, so stringify is total. */
export const stateText = (state: unknown): string => JSON.stringify(state, null, 2)

export interface DetailActions {
  readonly back: () => void
  readonly tail: (d: ActorDetail) => void
}

export const actorDetail = (target: { readonly kind: string; readonly key: string }, d: ActorDetail | null, actions: DetailActions) => {
  const figure = (label: string, value: unknown) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`
  return html`<section part="detail" aria-labelledby="detail-h">
    <div class="bar">
      <button type="button" part="back" @click=${actions.back}>← Back</button>
      ${d ? html`<button type="button" class="primary" part="tail-actor" @click=${() => actions.tail(d)}>Tail this actor</button>` : nothing}
    </div>
    <h2 id="detail-h" tabindex="-1">${target.kind} <span class="key">${target.key}</span></h2>
    ${d === null ? html`<p class="muted" role="status">Loading the actor…</p>` : html`
      <dl class="figures">
        ${figure("Owner", d.owner ?? "nobody answered")}${figure("Partition", d.partition)}${figure("Epoch", d.epoch ?? "—")}
        ${figure("Alive", d.alive ? "yes" : "no (passivated)")}${figure("Mailbox depth", count(d.mailboxDepth))}${figure("Handled", count(d.handled))}
        ${figure("Restarts", count(d.restarts))}${figure("Parked", d.parked ? "yes" : "no")}${figure("Spawned", when(d.spawnedAt))}${figure("Last activity", when(d.lastActivity))}
      </dl>
      <h3>Consumer</h3>
      ${d.consumer === null ? html`<p class="muted">No consumer reported.</p>` : html`<dl class="figures" part="consumer">
        ${figure("Name", d.consumer.name)}${figure("Pending", count(d.consumer.pending))}${figure("Ack pending", count(d.consumer.ackPending))}${figure("Redelivered", count(d.consumer.redelivered))}
      </dl>`}
      <h3>State</h3>
      ${d.state === null || d.state === undefined
        ? html`<p class="muted">No state to show: the actor is not hydrated, or its kind describes none.</p>`
        : html`<pre part="state" role="region" tabindex="0" aria-label="State of ${d.kind} ${d.key}">${stateText(d.state)}</pre>`}
      <h3>Recent commands</h3>
      ${d.recent.length === 0 ? html`<p class="muted">None handled since it was spawned.</p>` : html`<table part="recent">
        <caption class="visually-hidden">Recent commands, newest first</caption>
        <thead><tr><th scope="col" class="n">Seq</th><th scope="col">Command</th><th scope="col">Outcome</th><th scope="col" class="n">Duration</th>
          <th scope="col" class="n">Attempt</th><th scope="col">At</th><th scope="col">Error</th></tr></thead>
        <tbody>${[...d.recent].reverse().map((c) =>
          html`<tr class=${c.outcome}><td class="n">${c.seq}</td><td>${c.tag}</td><td><span class="outcome">${c.outcome}</span></td><td class="n">${duration(c.durationMs)}</td>
            <td class="n">${c.attempt}</td><td>${when(c.at)}</td><td class="err">${c.error ?? ""}</td></tr>`
        )}</tbody>
      </table>`}`}
  </section>`
}
