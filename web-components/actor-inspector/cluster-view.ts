/** The nodes (and those not answering), the actor kinds, and JetStream's streams and dead letters. */
import { html, nothing } from "lit"
import type { ActorsOverview } from "../sdk/admin.ts"
import { count, duration, nodeColor } from "./format.ts"

export const nodesView = (o: ActorsOverview) =>
  html`<section part="nodes" aria-labelledby="nodes-h">
    <h2 id="nodes-h">Nodes <span class="muted">(${o.nodes.length})</span></h2>
    ${o.missing.length > 0
      ? html`<p class="warn" part="missing"><strong>Not answering:</strong> ${o.missing.join(", ")} — their partitions and actors are missing below.</p>`
      : nothing}
    <table>
      <thead><tr><th scope="col">Node</th><th scope="col">Roles</th><th scope="col">Version</th><th scope="col">Heartbeat</th><th scope="col">Answered in</th>
        <th scope="col" class="n">Partitions</th><th scope="col" class="n">Actors</th><th scope="col" class="n">Mailbox</th><th scope="col" class="n">Sockets</th></tr></thead>
      <tbody>${o.nodes.map((n) =>
        html`<tr>
          <th scope="row"><span class="swatch" style="background:${nodeColor(n.node)}"></span>${n.node}${n.node === o.askedBy ? html` <span class="muted">(answering)</span>` : nothing}</th>
          <td>${n.roles.join(", ")}</td><td>${n.version}</td>
          <td>${n.heartbeatAgeMs === null ? "—" : `${duration(n.heartbeatAgeMs)} ago`}</td><td>${duration(n.answeredInMs)}</td>
          <td class="n">${count(n.partitions)}</td><td class="n">${count(n.actors)}</td><td class="n">${count(n.mailboxDepth)}</td><td class="n">${count(n.sockets)}</td>
        </tr>`
      )}</tbody>
    </table>
  </section>`

export const kindsView = (o: ActorsOverview) =>
  html`<section part="kinds" aria-labelledby="kinds-h">
    <h2 id="kinds-h">Kinds</h2>
    ${o.kinds.length === 0 ? html`<p class="muted">No live actors.</p>` : html`<table>
      <thead><tr><th scope="col">Kind</th><th scope="col" class="n">Live</th><th scope="col" class="n">Mailbox</th><th scope="col" class="n">Handled</th><th scope="col" class="n">Restarts</th></tr></thead>
      <tbody>${o.kinds.map((k) =>
        html`<tr><th scope="row">${k.kind}</th><td class="n">${count(k.live)}</td><td class="n">${count(k.mailboxDepth)}</td><td class="n">${count(k.handled)}</td><td class="n">${count(k.restarts)}</td></tr>`
      )}</tbody>
    </table>`}
  </section>`

export const streamsView = (o: ActorsOverview) =>
  html`<section part="streams" aria-labelledby="streams-h">
    <h2 id="streams-h">Streams</h2>
    <table>
      <thead><tr><th scope="col">Stream / consumer</th><th scope="col" class="n">Messages</th><th scope="col" class="n">Pending</th><th scope="col" class="n">Ack pending</th><th scope="col" class="n">Redelivered</th></tr></thead>
      <tbody>${o.streams.map((s) =>
        html`<tr class="stream"><th scope="row">${s.stream}</th><td class="n">${count(s.messages)}</td><td colspan="3" class="muted">${(s.bytes / 1024).toFixed(1)} KiB</td></tr>
          ${s.consumers.map((c) =>
            html`<tr><th scope="row" class="consumer">${c.name}</th><td></td><td class="n">${count(c.pending)}</td><td class="n">${count(c.ackPending)}</td><td class="n">${count(c.redelivered)}</td></tr>`
          )}`
      )}</tbody>
    </table>
    ${o.deadLetters.length === 0 ? html`<p class="muted">No dead letters.</p>` : html`<h3>Dead letters</h3><table>
      <thead><tr><th scope="col">Source</th><th scope="col">Consumer</th><th scope="col" class="n">Count</th></tr></thead>
      <tbody>${o.deadLetters.map((d) => html`<tr><td>${d.source}</td><td>${d.consumer}</td><td class="n">${count(d.count)}</td></tr>`)}</tbody>
    </table>`}
  </section>`
