"""
Medians of a `make bench` run as Markdown tables, with the Wagtail peer side by side when it ran.

    python bench/summarize.py var/bench/runs/<time>
"""

import json
import statistics
import sys
from pathlib import Path

LABELS = {
    "article": "article (one, middle of the corpus)",
    "mix": "article (random mix of 200)",
    "home": "home",
    "section": "section page (busiest section)",
    "tag": "tag page (busiest tag)",
    "search": "search",
    "static": "static copy of the article (ceiling)",
}
MODES = {
    "raw": "nothing cached (no page cache, no Redis)",
    "cached": "page cache on (Redis)",
}
PEER_NAMES = {"article": "article", "mix": "mix", "home": "index", "tag": "tag", "static": "static"}


def load_runs(folder):
    path = folder / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def queries(page, mode):
    """SQL queries per page in a mode: none on a page-cache hit."""
    return 0 if mode == "cached" else page.get("queries", 0)


def median(runs, key):
    return statistics.median(run[key] for run in runs)


def table(folder):
    prep = json.loads((folder / "prepare.json").read_text())
    runs = load_runs(folder)
    peer_file = folder / "peer" / "summary.json"
    peer = json.loads(peer_file.read_text()) if peer_file.exists() else None
    n = runs[0]["n"] if runs else folder.name[1:]
    uptime = (folder / "uptime.txt").read_text().strip() if (folder / "uptime.txt").exists() else ""
    after = uptime.split("load average:")[-1].strip()
    lines = [
        f"### N = {int(n):,} articles",
        "",
        f"Busiest section: {prep['section']}; busiest tag: {prep['tag']}. Load average before each run: "
        f"{min(r['load1'] for r in runs):.2f}–{max(r['load1'] for r in runs):.2f}; after: {after}.",
        "",
        "| page | mode | req/s (median) | req/s runs | p50 / p99 ms | queries | bytes | errors "
        + ("| peer req/s | peer queries | × peer " if peer else "")
        + "|",
        "|---|---|---:|---|---:|---:|---:|---:" + ("|---:|---:|---:" if peer else "") + "|",
    ]
    for mode in dict.fromkeys(r["mode"] for r in runs):
        for scenario in LABELS:
            rs = [r for r in runs if r["scenario"] == scenario and r["mode"] == mode]
            if not rs:
                continue
            page = prep["pages"][scenario]
            rps = median(rs, "rps")
            row = (
                f"| {LABELS[scenario]} | {mode} | **{rps:,.0f}** | {', '.join(f'{r["rps"]:.0f}' for r in rs)} | "
                f"{median(rs, 'p50_ms'):.1f} / {median(rs, 'p99_ms'):.1f} | {queries(page, mode)} | "
                f"{page['bytes'] if 'bytes' in page else prep['pages']['article']['bytes']} | "
                f"{sum(r['errors'] + r['non_2xx'] for r in rs)} |"
            )
            if peer:
                peer_sc = peer["scenarios"].get(PEER_NAMES.get(scenario, ""), None)
                if peer_sc:
                    peer_q = peer["queries"].get({"mix": "mix_mean"}.get(PEER_NAMES[scenario], PEER_NAMES[scenario]))
                    row += f" {peer_sc['rps_median']:,.0f} | {peer_q} | **{rps / peer_sc['rps_median']:.2f}×** |"
                else:
                    row += " – | – | – |"
            lines.append(row)
    return n, runs, lines


def main(run_dir):
    folders = sorted((f for f in run_dir.glob("N*") if (f / "prepare.json").exists()), key=lambda f: int(f.name[1:]))
    print(f"## Benchmark {run_dir.name} (medians of interleaved wrk runs)\n")
    print("Modes: " + "; ".join(f"{mode}: {meaning}" for mode, meaning in MODES.items()) + ".\n")
    by_n = {}
    for folder in folders:
        n, runs, lines = table(folder)
        by_n[int(n)] = runs
        print("\n".join(lines) + "\n")
    if len(by_n) > 1:
        sizes = sorted(by_n)
        print("### Throughput by corpus size (raw req/s, median)\n")
        print("| page | " + " | ".join(f"N={n:,}" for n in sizes) + f" | N={sizes[-1]:,} / N={sizes[0]:,} |")
        print("|---|" + "---:|" * (len(sizes) + 1))
        for scenario in LABELS:
            cells = []
            for n in sizes:
                rs = [r for r in by_n[n] if r["scenario"] == scenario and r["mode"] == "raw"]
                cells.append(median(rs, "rps") if rs else None)
            if cells[0] and cells[-1]:
                shown = " | ".join(f"{c:,.0f}" if c else "–" for c in cells)
                print(f"| {LABELS[scenario]} | {shown} | {cells[-1] / cells[0]:.2f} |")
        print()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
