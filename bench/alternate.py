#!/usr/bin/env python3
"""Runs our command and a peer's command alternately (ours, peer, ours, peer, ...) on the same
CPU set with the same thread-count environment, and prints the median wall time of each side,
min/max, CPU-seconds and the wall ratio, as one JSON object on stdout and one markdown table
row (to --md). This is the measuring rule of BENCHMARKS.md: a wall-clock ratio against the
peer, same cores, alternated in one run, median of several repetitions; CPU-seconds only as a
second column.

  alternate.py --name NAME --ours CMD --peer CMD [--reps 5] [--cpus 0,1] [--threads 2]
               [--warmup 1] [--before CMD] [--key-ours K] [--key-peer K]
               [--ours-label L] [--peer-label L] [--work N --unit U] [--json F] [--md F]

CMD is a bash command line. Each side runs under `taskset -c CPUS` (when taskset exists) with
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, RAYON_NUM_THREADS, NUMEXPR_NUM_THREADS
and MVOT_BENCH_THREADS set to --threads; a side's command passes its own thread flag
(--threads, torch.set_num_threads) from the same number. --before runs, untimed, before every
timed run of either side (for example removing the output directory a command must create).

By default the measure is the wall time of the whole process. --key-ours/--key-peer take the
measure from what the command prints instead, for benches that time their kernel in-process
after loading (still alternated process by process): a dotted JSON path into the last line of
stdout that parses as a JSON object (`numpy_unique.seconds`), or `re:REGEX` whose first group
is a number of seconds. CPU-seconds are always those of the whole process (user + sys of the
command and its children). With --work N the row also gives N/median as a rate in --unit.
Warm-up runs (--warmup, default 1 per side) are not counted."""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "RAYON_NUM_THREADS", "NUMEXPR_NUM_THREADS", "MVOT_BENCH_THREADS")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def extract(key, out):
    """The measure named by key in a command's stdout, in seconds."""
    if key.startswith("re:"):
        m = re.search(key[3:], out)
        if not m:
            raise ValueError("no match for %r" % key[3:])
        return float(m.group(1))
    for line in reversed(out.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            v = json.loads(line)
        except ValueError:
            continue
        for part in key.split("."):
            v = v[part]
        return float(v)
    raise ValueError("no JSON object line with %r in the output" % key)


def run_once(cmd, key, env, pin, before):
    if before:
        subprocess.run(["bash", "-c", before], check=True, env=env)
    c0, t0 = children_cpu(), time.perf_counter()
    p = subprocess.run(pin + ["bash", "-c", cmd], env=env, stdout=subprocess.PIPE, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-2000:])
        raise SystemExit("alternate.py: command failed (exit %d): %s" % (p.returncode, cmd))
    return (extract(key, p.stdout) if key else wall), wall, cpu


def summary(label, cmd, key, vals, walls, cpus):
    return {"label": label, "command": cmd, "measure": key or "process wall",
            "seconds": vals, "median_s": statistics.median(vals), "min_s": min(vals),
            "max_s": max(vals), "process_wall_s": walls, "cpu_s": cpus,
            "cpu_median_s": statistics.median(cpus)}


def fmt(x):
    return "%.3g" % x if x < 10 else "%.1f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--ours-label", default="mvot")
    ap.add_argument("--peer-label", default="peer")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--cpus", default="0,1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--before")
    ap.add_argument("--key-ours")
    ap.add_argument("--key-peer")
    ap.add_argument("--work", type=float)
    ap.add_argument("--unit", default="items")
    ap.add_argument("--json")
    ap.add_argument("--md")
    a = ap.parse_args()
    if a.reps < 1 or a.threads < 1:
        ap.error("--reps and --threads must be at least 1")
    env = dict(os.environ, **{v: str(a.threads) for v in THREAD_VARS})
    pin = ["taskset", "-c", a.cpus] if shutil.which("taskset") else []
    sides = (("ours", a.ours, a.key_ours), ("peer", a.peer, a.key_peer))
    for _ in range(a.warmup):
        for _, cmd, key in sides:
            run_once(cmd, key, env, pin, a.before)
    res = {s: ([], [], []) for s, _, _ in sides}
    t_start = time.perf_counter()
    for r in range(a.reps):
        for s, cmd, key in sides:
            v, w, c = run_once(cmd, key, env, pin, a.before)
            for lst, x in zip(res[s], (v, w, c)):
                lst.append(round(x, 4))
        sys.stderr.write("  %s rep %d/%d: ours %.3f s, peer %.3f s\n"
                         % (a.name, r + 1, a.reps, res["ours"][0][-1], res["peer"][0][-1]))
    ours = summary(a.ours_label, a.ours, a.key_ours, *res["ours"])
    peer = summary(a.peer_label, a.peer, a.key_peer, *res["peer"])
    out = {"name": a.name, "reps": a.reps, "warmup": a.warmup, "cpus": a.cpus if pin else None,
           "threads": a.threads, "ours": ours, "peer": peer,
           "ratio_wall": peer["median_s"] / ours["median_s"],
           "ratio_cpu": peer["cpu_median_s"] / ours["cpu_median_s"],
           "timed_s": round(time.perf_counter() - t_start, 2)}
    if a.work:
        out["work"], out["unit"] = a.work, a.unit
    print(json.dumps(out))
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps(out) + "\n")
    rate = lambda s: " (%s %s/s)" % (fmt(a.work / s["median_s"]), a.unit) if a.work else ""
    row = "| %s | %s: %s s%s [%s–%s] | %s: %s s%s [%s–%s] | **%.2fx** | %s / %s |" % (
        a.name, ours["label"], fmt(ours["median_s"]), rate(ours), fmt(ours["min_s"]),
        fmt(ours["max_s"]), peer["label"], fmt(peer["median_s"]), rate(peer), fmt(peer["min_s"]),
        fmt(peer["max_s"]), out["ratio_wall"], fmt(ours["cpu_median_s"]),
        fmt(peer["cpu_median_s"]))
    if a.md:
        with open(a.md, "a") as f:
            f.write(row + "\n")
    sys.stderr.write(row + "\n")


if __name__ == "__main__":
    main()
