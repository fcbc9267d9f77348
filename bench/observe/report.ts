/** The observe benchmark's table: each figure, its goal and whether it was met. */
import { fmtCores, fmtInt, fmtMs, printTable, type Row } from "../accounts/report.ts"
import type { CostResult } from "./fanout.ts"
import type { InspectorResult, InspectorSettings } from "./inspector.ts"
import type { Latency } from "./probes.ts"

export interface Goals {
  /** Inserts/s with one observer, as a share of those without. */
  readonly withObserverShare: number
  readonly overviewP99Ms: number
}

/** Other processes (NATS, Redis, PostgreSQL's background work, anyone else) above this make a round's figures suspect. */
const BUSY_CORES = 1.2
const signed = (share: number) => `${share >= 0 ? "+" : ""}${(share * 100).toFixed(1)} %`
const pct = (share: number) => `${(share * 100).toFixed(1)} %`
const lat = (l: Latency) => `${fmtMs(l.p50Ms)} / ${fmtMs(l.p99Ms)} / ${fmtMs(l.maxMs)} ms`

const costRows = (c: CostResult, goals: Goals): Array<Row> => {
  const limit = fmtInt(c.maxPerSecond)
  return [
    { metric: `[${c.label}] burst inserts/s, no observer (median of ${c.rounds.length})`, value: `${fmtInt(c.medianWithout)} /s`, goal: "—" },
    { metric: `  … one admin observing everything (limit ${limit}/s)`, value: `${fmtInt(c.medianWith)} /s`, goal: "—" },
    {
      metric: "  … with / without (medians)",
      value: pct(c.ratio),
      goal: `≥ ${pct(goals.withObserverShare)}`,
      met: c.ratio >= goals.withObserverShare
    },
    // the rounds' own ratios cancel the machine's drift between rounds: the steadier estimate of the two
    {
      metric: "  … median of each round's with / without",
      value: pct(c.pairedRatio),
      goal: `≥ ${pct(goals.withObserverShare)}`,
      met: c.pairedRatio >= goals.withObserverShare
    },
    {
      metric: "  … taps per burst: received / dropped by the limit / matched",
      value: `${fmtInt(c.observedPerBurst)} / ${fmtInt(c.droppedPerBurst)} / ${fmtInt(c.matchedPerBurst)}`,
      goal: "—"
    },
    { metric: "  … taps over all rounds: received / dropped", value: `${fmtInt(c.observedTotal)} / ${fmtInt(c.droppedTotal)}`, goal: "—" },
    { metric: "  … taps on NATS while nobody observed", value: fmtInt(c.tapsWhileUnobserved), goal: "0", met: c.tapsWhileUnobserved === 0 },
    { metric: "  … server CPU during a burst: without / with", value: `${fmtCores(c.serverCpuWithout)} / ${fmtCores(c.serverCpuWith)} cores`, goal: "—" },
    {
      metric: "  … server CPU seconds per burst: without / with",
      value: `${c.serverCpuSecondsWithout.toFixed(3)} / ${c.serverCpuSecondsWith.toFixed(3)} s (paired ${signed(c.pairedCpuRatio - 1)})`,
      goal: "—"
    },
    {
      metric: "  … other processes during the bursts (median)",
      value: `${fmtCores(c.otherCores)} cores${c.otherCores > BUSY_CORES ? " (BUSY MACHINE)" : ""}`,
      goal: "—"
    }
  ]
}

const inspectorRows = (r: InspectorResult, goals: Goals, s: InspectorSettings): Array<Row> => {
  const nodes = Object.entries(r.liveByNode).map(([n, a]) => `${n} ${fmtInt(a)}`).join(", ")
  const answered = Object.entries(r.answeredInMs).map(([n, l]) => `${n} ${fmtMs(l.p50Ms)}/${fmtMs(l.p99Ms)}`).join(", ")
  const bytes = Object.entries(r.probes.gather.answerBytes).map(([n, b]) => `${n} ${fmtInt(b)}`).join(", ")
  const p = r.probes
  return [
    { metric: `live timeline actors on ${r.nodes.length} nodes`, value: `${fmtInt(r.liveActors)} (${nodes})`, goal: `≥ ${fmtInt(s.actors)}`, met: r.liveActors >= s.actors },
    { metric: `  … woken in (publish ${fmtMs(r.publishMs / 1000)} s)`, value: `${fmtMs(r.wakeMs / 1000)} s`, goal: "—" },
    {
      metric: `GET /admin/actors one at a time ×${r.overview.count}: p50 / p99 / max`,
      value: lat(r.overview),
      goal: `p99 < ${goals.overviewP99Ms} ms`,
      met: r.overview.p99Ms < goals.overviewP99Ms && r.overview.missingAnswers === 0
    },
    {
      metric: `GET /admin/actors @ ${s.rate}/s for ${s.rateSeconds} s: p50 / p99 / max`,
      value: `${fmtMs(r.paced.p50Ms)} / ${fmtMs(r.paced.p99Ms)} / ${fmtMs(r.paced.maxMs)} ms`,
      goal: `p99 < ${goals.overviewP99Ms} ms`,
      met: r.paced.p99Ms < goals.overviewP99Ms && Object.keys(r.paced.statuses).every((k) => k === "200") && (r.paced.unfinished ?? 0) === 0
    },
    { metric: "  … answer size, p50 (max)", value: `${fmtInt(r.overview.bytesP50)} B (${fmtInt(r.overview.bytesMax)})`, goal: "—" },
    { metric: "  … answers missing a node", value: fmtInt(r.overview.missingAnswers), goal: "0", met: r.overview.missingAnswers === 0 },
    { metric: "  … answeredInMs per node, p50/p99", value: `${answered} ms`, goal: "—" },
    { metric: "  … server CPU, one at a time / at the fixed rate", value: `${fmtCores(r.overview.cpu.server)} / ${fmtCores(r.paced.cpu.server)} cores`, goal: "—" },
    {
      metric: `GET /admin/actors/timeline/:key ×${r.detail.count}: p50 / p99 / max`,
      value: `${lat(r.detail)} (${r.detail.alive} alive)`,
      goal: "—"
    },
    { metric: `parts alone ×${p.rounds}, p50 / p99 / max: heartbeats (KV keys + gets)`, value: lat(p.heartbeats), goal: "—" },
    { metric: `  … inspect.nodes gather (answers: ${bytes} B)`, value: lat(p.gather), goal: "—" },
    { metric: `  … JetStream figures (${p.figures.consumers} consumers)`, value: lat(p.figures), goal: "—" },
    { metric: "  … dead-letter counts (PostgreSQL)", value: lat(p.deadLetters), goal: "—" }
  ]
}

export const summarise = (costs: ReadonlyArray<CostResult>, inspector: InspectorResult | undefined, goals: Goals, s: InspectorSettings): ReadonlyArray<Row> => {
  const rows = [...costs.flatMap((c) => costRows(c, goals)), ...(inspector === undefined ? [] : inspectorRows(inspector, goals, s))]
  printTable(rows)
  console.log("(inserts/s: 5,000 × posts of a burst / time from its first COMMIT until every follower timeline held them all; " +
    "both sides in every round on the same server, alternating which goes first. Latencies to the last byte, keep-alive, " +
    "the fixed rate from each request's due time.)")
  return rows
}
