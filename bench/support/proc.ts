/** CPU time from Linux's /proc, for the benchmarks' accounting of who used which cores. */
import { readFileSync } from "node:fs"

// USER_HZ, the unit of /proc times: 100 on every mainstream Linux build
export const CLOCK_TICKS_PER_SECOND = 100

/** Fields of /proc/<pid>/stat after the command name, which may contain spaces; null where unreadable. */
export const statFields = (pid: number): ReadonlyArray<string> | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // fields restart after the ")" closing field 2, so field n is at index n - 3
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  } catch {
    return null
  }
}

/** CPU seconds (user + system, all threads) a process has used so far; null where /proc is missing. */
export const processCpuSeconds = (pid: number): number | null => {
  const f = statFields(pid)
  return f === null ? null : (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_SECOND // utime, stime
}

/** Busy (not idle or iowait) and total jiffies of the whole machine, from the first line of /proc/stat; null where missing. */
export const machineJiffies = (): { busy: number; total: number } | null => {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields
    return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal }
  } catch {
    return null
  }
}
