/**
 * Optional CPU profile of the server under a benchmark (`--cpu-prof` is refused in NODE_OPTIONS).
 * A benchmark preloads this with `NODE_OPTIONS=--import <this file>` when BENCH_SERVER_CPU_PROFILE
 * names a directory; the profile (Chrome DevTools' .cpuprofile) is written there.
 *
 * By default it covers the whole run and is written when the server exits. With
 * BENCH_SERVER_CPU_PROFILE_WINDOW=signal it covers only what the benchmark brackets with SIGUSR2:
 * the first signal starts a profile, the next writes it (`server-<pid>-<n>.cpuprofile`), and so
 * on — the fan-out benchmark profiles each burst that way. Plain JavaScript: it loads before tsx.
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
  let running = false
  let written = 0
  const start = () => {
    session.post("Profiler.start")
    running = true
  }
  // the in-thread session answers synchronously, so this works inside an 'exit' handler
  const write = () => {
    if (!running) return
    running = false
    session.post("Profiler.stop", (error, result) => {
      if (error) return
      mkdirSync(dir, { recursive: true })
      const n = written++
      writeFileSync(path.join(dir, `server-${process.pid}${n === 0 ? "" : `-${n}`}.cpuprofile`), JSON.stringify(result.profile))
    })
  }
  if (process.env.BENCH_SERVER_CPU_PROFILE_WINDOW === "signal") {
    process.on("SIGUSR2", () => (running ? write() : start()))
  } else {
    start()
  }
  process.on("exit", write)
}
