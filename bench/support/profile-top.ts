/**
 * Summarises a .cpuprofile (Chrome DevTools format, as written by bench/media/cpu-profile.mjs):
 * the functions with the most self time, and the heaviest by inclusive time.
 * Run: `npx tsx bench/support/profile-top.ts <file.cpuprofile> [rows]`.
 */
import { readFileSync } from "node:fs"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, rowsArg] = process.argv.slice(2)
if (file === undefined) throw new Error("usage: profile-top.ts <file.cpuprofile> [rows]")
const rows = Number(rowsArg ?? 30)
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "nm:").replace(/.*\/src\//, "src/")
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`
}

const selfByLabel = new Map<string, number>()
const inclByLabel = new Map<string, number>()
for (const [id, t] of self) {
  const n = byId.get(id)!
  selfByLabel.set(label(n), (selfByLabel.get(label(n)) ?? 0) + t)
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!)
    if (seen.has(l)) continue
    seen.add(l)
    inclByLabel.set(l, (inclByLabel.get(l) ?? 0) + t)
  }
}
const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)} %`
console.log(`total sampled ${(total / 1e6).toFixed(2)} s`)
console.log("\nself time:")
for (const [l, t] of [...selfByLabel].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(t)}  ${l}`)
console.log("\ninclusive time (src/ and selected):")
for (const [l, t] of [...inclByLabel].filter(([l]) => l.includes("src/")).sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(t)}  ${l}`)
