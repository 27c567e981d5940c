import { readFileSync, readdirSync } from 'node:fs'

/** Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms. */
const TICK_MS = 10

/** CPU time (user + system, all threads) a process has used, in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // After the command: state(0) ppid(1) ... utime(11) stime(12).
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

/** Resident memory of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match![1]) * 1024
}

/** `rootPid` and every process below it, alive now. */
export function processTree(rootPid: number): number[] {
  const parents = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // gone meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p; p = parents.get(p)) if (p === rootPid) return true
    return false
  }
  return [rootPid, ...[...parents.keys()].filter(descends)]
}

/** CPU time of `rootPid` and its descendants, in milliseconds (a process that exits meanwhile drops out). */
export function treeCpuMs(rootPid: number): number {
  return processTree(rootPid).reduce((sum, pid) => sum + tryRead(() => cpuMs(pid)), 0)
}

/** Resident memory of `rootPid` and its descendants, in bytes. */
export function treeRssBytes(rootPid: number): number {
  return processTree(rootPid).reduce((sum, pid) => sum + tryRead(() => rssBytes(pid)), 0)
}

const tryRead = (read: () => number) => {
  try {
    return read()
  } catch {
    return 0 // the process ended between listing and reading
  }
}

/**
 * The two workerd processes `wrangler dev` runs under `rootPid`: the Worker itself (listening on
 * `entry=127.0.0.1:0`) and the entry proxy in front of it.
 */
export function workerdProcesses(rootPid: number): { worker: number; proxy: number } {
  let worker = 0
  let proxy = 0
  for (const pid of processTree(rootPid).slice(1)) {
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    } catch {
      continue
    }
    if (!cmdline.includes('workerd serve')) continue
    if (cmdline.includes('entry=127.0.0.1:0')) worker = pid
    else proxy = pid
  }
  if (!worker || !proxy) throw new Error(`could not find wrangler's workerd processes under ${rootPid}`)
  return { worker, proxy }
}
