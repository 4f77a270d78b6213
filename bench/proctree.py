#!/usr/bin/python3
"""CPU time and resident memory of a whole process tree, read from /proc.

A server may be one process (nginx with master_process off, asgid today) or a master
plus workers (nginx normally, asgid later). To compare them fairly the benchmark always
measures the server's pid together with all of its descendants.

Usage (from run.sh):
    proctree.py cpu PID   -> clock ticks (user+sys) of the tree, an integer
    proctree.py rss PID   -> VmRSS of the tree in KiB, an integer

idle_clients.py imports this module for the same numbers.
"""
import os
import sys


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name.

    The command name is in parentheses and may itself contain spaces or ')', so split
    after the LAST ')'. Returned list index 0 is field 3 (state) of proc(5).
    """
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read().decode("ascii", "replace")
    return data[data.rindex(")") + 2:].split()


def tree(root):
    """The root pid followed by every live descendant (found through each process's ppid)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(name)[1])  # field 4
        except (OSError, ValueError, IndexError):
            continue  # the process exited while we were looking
        children.setdefault(ppid, []).append(int(name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def cpu_ticks(root):
    """user+sys clock ticks of the tree, including children that exited and were reaped.

    utime+stime (fields 14, 15) cover each live process's own threads; cutime+cstime
    (fields 16, 17) cover descendants that already exited and were waited for, which are
    no longer in the tree. Summing all four over the live tree counts every tick once.
    """
    total = 0
    for pid in tree(root):
        try:
            f = _stat_fields(pid)
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15])
    return total


def rss_kib(root):
    """Sum of VmRSS (KiB) over the tree. Pages shared between master and workers count
    once per process, which is fine for the benchmark: it looks at growth, not totals."""
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def main(argv):
    if len(argv) != 3 or argv[1] not in ("cpu", "rss") or not argv[2].isdigit():
        sys.exit("usage: proctree.py cpu|rss PID")
    pid = int(argv[2])
    if not os.path.exists(f"/proc/{pid}"):
        sys.exit(f"proctree.py: no process {pid}")
    print(cpu_ticks(pid) if argv[1] == "cpu" else rss_kib(pid))


if __name__ == "__main__":
    main(sys.argv)
