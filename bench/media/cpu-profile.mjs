/**
 * Optional CPU profile of the server under the upload benchmark (`--cpu-prof` is refused in
 * NODE_OPTIONS). run.ts preloads this with `NODE_OPTIONS=--import <this file>` when
 * BENCH_SERVER_CPU_PROFILE names a directory; the profile (Chrome DevTools' .cpuprofile) is
 * written there when the server exits. Plain JavaScript: it loads before tsx does.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { Session } from "node:inspector"
import * as path from "node:path"

const dir = process.env.BENCH_SERVER_CPU_PROFILE
if (dir) {
  const session = new Session()
  session.connect()
  session.post("Profiler.enable")
  session.post("Profiler.setSamplingInterval", { interval: 500 })
  session.post("Profiler.start")
  // the in-thread session answers synchronously, so this works inside an 'exit' handler
  process.on("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (error) return
      mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile))
    })
  })
}
