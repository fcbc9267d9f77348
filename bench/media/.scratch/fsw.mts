import { createWriteStream } from "node:fs"
import { Session } from "node:inspector"
const session = new Session(); session.connect()
const post = (m: string, p?: object) => new Promise<any>((res, rej) => session.post(m, p ?? {}, (e, r) => e ? rej(e) : res(r)))
const chunkKb = Number(process.argv[2] ?? 64)
const chunk = new Uint8Array(chunkKb * 1024).fill(7)
await post("Profiler.enable"); await post("Profiler.setSamplingInterval", { interval: 500 }); await post("Profiler.start")
const t0 = performance.now()
const cpu0 = process.cpuUsage()
for (let f = 0; f < 40; f++) {
  const out = createWriteStream(`/tmp/mbx/fsw-${f}`, { flags: "w" })
  for (let n = 0; n < (5 * 1024) / chunkKb; n++) {
    if (!out.write(chunk.slice(0))) await new Promise((r) => out.once("drain", r))
  }
  await new Promise<void>((r) => out.end(r))
}
const cpu = process.cpuUsage(cpu0)
const { profile } = await post("Profiler.stop")
const self = new Map<string, number>()
const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]))
profile.samples.forEach((s: number, i: number) => { const n = byId.get(s); const k = n.callFrame.functionName || "(anon)"; self.set(k, (self.get(k) ?? 0) + profile.timeDeltas[i]) })
console.log(`chunk ${chunkKb} KB: 200 MB in ${(performance.now() - t0).toFixed(0)} ms, main-thread CPU user ${(cpu.user/1000).toFixed(0)} ms sys ${(cpu.system/1000).toFixed(0)} ms; writeBuffer self ${((self.get("writeBuffer") ?? 0) / 1000).toFixed(0)} ms`)
