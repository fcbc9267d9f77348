/** Medians over rounds, the summary table and bench/accounts/results.json. */
import { writeFileSync } from "node:fs"
import * as os from "node:os"
import { type CpuUse, failures, type LoadResult } from "./load.ts"

export interface Measurement {
  readonly round: number
  readonly result: LoadResult
  readonly cpu: CpuUse
}

export interface Medians {
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  /** Summed over rounds, not a median: one failure anywhere matters. */
  readonly failures: number
  /** Open loop: requests abandoned unanswered, summed over rounds; their percentiles are lower bounds. */
  readonly unfinished: number
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const mediansOf = (rounds: ReadonlyArray<Measurement>, failuresOf: (r: LoadResult) => number): Medians => ({
  reqPerSec: median(rounds.map((m) => m.result.reqPerSec)),
  p50Ms: median(rounds.map((m) => m.result.p50Ms)),
  p90Ms: median(rounds.map((m) => m.result.p90Ms)),
  p99Ms: median(rounds.map((m) => m.result.p99Ms)),
  failures: rounds.reduce((n, m) => n + failuresOf(m.result), 0),
  unfinished: rounds.reduce((n, m) => n + (m.result.unfinished ?? 0), 0)
})

export interface Row {
  readonly metric: string
  readonly value: string
  readonly goal: string
  /** Undefined for figures without a goal. */
  readonly met?: boolean
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US")
export const fmtMs = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))
export const fmtCores = (n: number | null) => (n === null ? "n/a" : n.toFixed(2))

/** One measurement as a progress line: rate, latency, the cores each party used, and what failed. */
export const describeLoad = (r: LoadResult, cpu: CpuUse, otherCpuWarning: number) => {
  const bad = failures(r)
  return `${fmtInt(r.reqPerSec).padStart(6)} req/s  p50 ${fmtMs(r.p50Ms).padStart(5)}  p99 ${fmtMs(r.p99Ms).padStart(5)} ms  ` +
    `CPU server ${fmtCores(cpu.server)} db ${fmtCores(cpu.db)}+${fmtCores(cpu.dbExited)} loadgen ${fmtCores(cpu.loadgen)} ` +
    `other ${fmtCores(cpu.other)}` +
    ((cpu.other ?? 0) > otherCpuWarning ? " (BUSY MACHINE)" : "") +
    (bad > 0 ? `  ${bad} FAILED (${JSON.stringify(r.statuses)}, ${r.errors} errors, ${r.unfinished ?? 0} unanswered)` : "")
}

export const printTable = (rows: ReadonlyArray<Row>) => {
  const header = ["metric", "value", "goal", "met?"]
  const cells = rows.map((r) => [r.metric, r.value, r.goal, r.met === undefined ? "" : r.met ? "yes" : "NO"])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: ReadonlyArray<string>) => c.map((v, i) => (i === 1 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(" | ")
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("-|-")}`)
  for (const c of cells) console.log(line(c))
}

export const machineInfo = () => {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtEnd: os.loadavg()
  }
}

export const writeJson = (path: string, json: unknown) => {
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`\nresults written to ${path}`)
}
