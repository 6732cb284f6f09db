#!/usr/bin/env python3
"""Summarizes a scripts/bench.sh run: the targets of BENCHMARKS.md, met or not, then every figure.

    benchmarks/summarize.py <bench output dir>     (reads results.jsonl, micro.json, machine.txt)

Prints Markdown. Exits 1 when a load scenario had no successful call.
"""
import json
import os
import sys


def load_results(out):
    results = []
    path = os.path.join(out, "results.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    results.append(json.loads(line))
    return results


def load_micro(out):
    path = os.path.join(out, "micro.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f).get("benchmarks", [])


def find(results, run, scenario):
    for r in results:
        if r["run"] == run and r["scenario"] == scenario:
            return r
    return None


def label(run):
    n = int(run)
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def fmt(x, digits=2):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def micro_seconds(bench, key):
    """A Google Benchmark time in seconds."""
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[bench.get("time_unit", "ns")]
    return bench[key] * scale


def main():
    out = sys.argv[1]
    results = load_results(out)
    micro = load_micro(out)
    runs = sorted({r["run"] for r in results}, key=lambda run: int(run))
    largest = runs[-1] if runs else None
    lines = []
    add = lines.append

    add("# catalog-bench summary\n")
    machine = os.path.join(out, "machine.txt")
    if os.path.exists(machine):
        add("```")
        with open(machine) as f:
            add(f.read().rstrip())
        add("```\n")

    # ---- targets ----
    rows = []  # (target, goal, measured, met)

    def per_run(scenario, value, goal_ok, runs_to_check):
        measured, met, seen = [], True, False
        for run in runs_to_check:
            r = find(results, run, scenario)
            v = value(r) if r else None
            if v is None:
                measured.append(f"{label(run)}: -")
                continue
            seen = True
            measured.append(f"{label(run)}: {v}")
            met = met and goal_ok(v)
        return "; ".join(measured) if measured else "not measured", (met if seen else None)

    def ratio(r):
        return round(r["ratio_to_health"], 3) if r and "ratio_to_health" in r else None

    def cpu_ratio_note(scenario, runs_to_check):
        notes = [f"{label(run)}: {find(results, run, scenario)['cpu_normalized_ratio_to_health']:.2f}"
                 for run in runs_to_check if find(results, run, scenario)
                 and "cpu_normalized_ratio_to_health" in find(results, run, scenario)]
        return " (per server CPU-second: " + "; ".join(notes) + ")" if notes else ""

    m, ok = per_run("get_model", ratio, lambda v: v >= 0.90, runs)
    rows.append(("GetModel throughput / Health.Check throughput", "≥ 0.90",
                 m + cpu_ratio_note("get_model", runs), ok))
    m, ok = per_run("list_models", ratio, lambda v: v >= 0.20, runs)
    rows.append(("ListModels, page_size 100, all fields / Health.Check", "≥ 0.20",
                 m + cpu_ratio_note("list_models", runs), ok))
    large_runs = [run for run in runs if int(run) >= 100000] or []
    for scenario, what, goal in [
            ("list_filtered", "ListModels, page 100 BASIC, filter `capabilities.input:image AND "
             "endpoint=\"/chat/completions\"`", 0.20),
            ("list_ordered", "ListModels, page 100 BASIC, order_by `pricing.input_cost_per_token`", 0.20),
            ("batch_get", "BatchGetModels of 20 ids", 0.30)]:
        m, ok = per_run(scenario, ratio, lambda v, goal=goal: v >= goal, large_runs)
        rows.append((f"{what}, 100,000 models / Health.Check", f"≥ {goal:.2f}",
                     m + cpu_ratio_note(scenario, large_runs) if large_runs
                     else "not measured (no 100,000-model run)", ok))
    # A BASIC page is no slower than a FULL one over 100,000 models, as the target reads; smaller
    # catalogs are shown. Each side is the median of its per-round ratios, so at equal cost the
    # two can swap by noise: the pooled throughput is shown too.
    basic_vs_full, met = [], None
    for run in runs:
        basic, full = find(results, run, "list_models_basic"), find(results, run, "list_models")
        if basic and full and ratio(basic) is not None and ratio(full) is not None:
            basic_vs_full.append(f"{label(run)}: {ratio(basic)} vs {ratio(full)}"
                                 f" ({basic.get('ok_per_second', 0):.0f} vs {full.get('ok_per_second', 0):.0f} calls/s)")
            if int(run) >= 100000:
                met = (met is not False) and ratio(basic) >= ratio(full)
    rows.append(("ListModels page 100, 100,000 models: BASIC / Health.Check vs FULL / Health.Check",
                 "BASIC ≥ FULL",
                 "; ".join(basic_vs_full) or "not measured", met if basic_vs_full else None))
    search_runs = large_runs
    m, ok = per_run("search_models", ratio, lambda v: v >= 0.30, search_runs)
    rows.append(("SearchModels over 100,000 models, 2–6 character queries / Health.Check", "≥ 0.30",
                 m + cpu_ratio_note("search_models", search_runs) if search_runs
                 else "not measured (no 100,000-model run)", ok))
    m, ok = per_run("search_typo", ratio, lambda v: v >= 0.20, search_runs)
    rows.append(("SearchModels over 100,000 models, two terms one with a typo / Health.Check",
                 "≥ 0.20",
                 m + cpu_ratio_note("search_typo", search_runs) if search_runs
                 else "not measured (no 100,000-model run)", ok))
    m, ok = per_run("estimate_cost", ratio, lambda v: v >= 0.80, runs)
    rows.append(("EstimateCost of one model / Health.Check", "≥ 0.80",
                 m + cpu_ratio_note("estimate_cost", runs), ok))
    m, ok = per_run("validate_request", ratio, lambda v: v >= 0.50, runs)
    rows.append(("ValidateRequest, a 10-field payload against a compiled schema / Health.Check",
                 "≥ 0.50", m + cpu_ratio_note("validate_request", runs), ok))
    m, ok = per_run("estimate_filtered", ratio, lambda v: v >= 0.05, large_runs)
    rows.append(("EstimateCost over a filter matching 10,000 of 100,000 models, first page of 50 "
                 "/ Health.Check", "≥ 0.05",
                 m + cpu_ratio_note("estimate_filtered", large_runs) if large_runs
                 else "not measured (no 100,000-model run)", ok))
    m, ok = per_run("get_model_latency", lambda r: round(r["p50_us"], 1) if r["ok"] else None,
                    lambda v: v <= 100, runs)
    # The same for Health.Check, the floor set by the transport, when it was measured.
    floor = [f"{label(run)}: {find(results, run, 'health_latency')['p50_us']:.1f}" for run in runs
             if find(results, run, "health_latency") and find(results, run, "health_latency")["ok"]]
    if floor:
        m += " (Health.Check the same way: " + "; ".join(floor) + ")"
    rows.append(("GetModel latency, one connection, one call at a time: p50 (µs)", "≤ 100", m, ok))

    sync_bench = [b for b in micro if b.get("name", "").startswith("SyncPipeline(parse+ApplySync)/")
                  and b.get("run_type", "iteration") == "iteration"]
    sync_100k = [b for b in sync_bench if b["name"].split("/")[1] == "100000"]
    if sync_100k:
        b = sync_100k[0]
        cpu, wall = micro_seconds(b, "cpu_time"), micro_seconds(b, "real_time")
        rows.append(("sync of a 100,000-model catalog (parse, diff, index, swap; fetch excluded), s",
                     "≤ 2", f"{cpu:.2f} CPU s ({wall:.2f} s wall)", cpu <= 2))
    else:
        rows.append(("sync of a 100,000-model catalog (parse, diff, index, swap; fetch excluded), s",
                     "≤ 2", "not measured (no 100,000-model micro-benchmark)", None))

    during = find(results, largest, "sync_during") if largest else None
    if during and "p99_during_over_idle" in during:
        v = during["p99_during_over_idle"]
        rows.append((f"GetModel p99 while a {int(largest):,}-model sync is applied / idle p99", "≤ 2",
                     f"{v:.2f} ({during['during_p99_us'] / 1000:.2f} ms / {during['idle_p99_us'] / 1000:.2f} ms,"
                     f" {during.get('syncs_applied', 0)} syncs applied; while fetching:"
                     f" {during.get('fetch_p99_us', 0) / 1000:.2f} ms; sender late by"
                     f" {during.get('send_lag_p99_us', 0) / 1000:.2f} ms at p99"
                     + (f"; counted from the send instead: {during['during_p99_from_send_us'] / 1000:.2f} ms /"
                        f" {during['idle_p99_from_send_us'] / 1000:.2f} ms ="
                        f" {during['during_p99_from_send_us'] / during['idle_p99_from_send_us']:.2f}"
                        if during.get('idle_p99_from_send_us') else "")
                     + ")", v <= 2))
    else:
        rows.append(("GetModel p99 while a sync is applied / idle p99", "≤ 2", "not measured", None))

    mem_runs = [run for run in runs if int(run) >= 100000]
    m, ok = per_run("memory", lambda r: round(r["rss_over_json"], 2) if r and "rss_over_json" in r else None,
                    lambda v: v <= 3, mem_runs)
    rows.append(("resident memory with 100,000 models / size of the catalog JSON", "≤ 3",
                 m if mem_runs else "not measured (no 100,000-model run)", ok if mem_runs else None))
    if during and "sync_peak_over_rest" in during:
        v = during["sync_peak_over_rest"]
        rows.append((f"peak resident memory during {int(largest):,}-model syncs / at rest after them",
                     "≤ 1.3", f"{v:.2f} ({during['sync_peak_rss_kib']:,} KiB /"
                     f" {during['rss_at_rest_after_syncs_kib']:,} KiB)", v <= 1.3))
    else:
        rows.append(("peak resident memory during 100,000-model syncs / at rest after them", "≤ 1.3",
                     "not measured", None))
    m, ok = per_run("watch", lambda r: round(r["kib_per_watcher"], 2) if r and "kib_per_watcher" in r else None,
                    lambda v: v <= 20, runs)
    watchers = {r["watchers"] for r in results if r["scenario"] == "watch" and "watchers" in r}
    wlabel = f"{max(watchers):,}" if watchers else "10,000"
    rows.append((f"{wlabel} concurrent watchers: memory per watcher (KiB)", "≤ 20", m, ok))
    m, ok = per_run("watch", lambda r: round(r["delivery_p99_ms"], 1)
                    if r and r.get("watchers_with_marker") and r.get("deliveries_missing", 1) == 0 else None,
                    lambda v: v <= 200, runs)
    rows.append((f"one event delivered to all {wlabel} watchers: p99 (ms)", "≤ 200", m, ok))

    # WatchDeployments and WatchModels against etcd's watch, in the runs that measured both.
    etcd_pairs = [(run, find(results, run, "watch"), find(results, run, "watch_etcd")) for run in runs]
    etcd_pairs = [(run, w, e) for run, w, e in etcd_pairs if w and e]

    def complete(r):
        return r.get("watchers_with_marker") and r.get("deliveries_missing", 1) == 0

    for run, _, e in etcd_pairs:
        for scenario, method in [("watch", "WatchDeployments"), ("watch_models", "WatchModels")]:
            w = find(results, run, scenario)
            if not w:
                continue
            n = f"{w.get('watchers', 0):,}"
            for key, what in [("delivery_p99_ms", "p99 (ms)"),
                              ("first_to_last_median_ms", "first-to-last spread, median round (ms)")]:
                ok = complete(w) and complete(e) and key in w and key in e
                rows.append((f"{n} watchers, one change: {what}, {method} vs etcd's watch",
                             "≤ etcd's", f"{w.get(key, 0):.1f} vs {e.get(key, 0):.1f}" if ok else "-",
                             w[key] <= e[key] if ok else None))
            if "kib_per_watcher" in w:
                rows.append((f"{n} watchers: memory per watcher (KiB), {method} (etcd's watch)",
                             "≤ 16", f"{w['kib_per_watcher']:.2f} ({e.get('kib_per_watcher', 0):.2f})",
                             w["kib_per_watcher"] <= 16))

    add("## Targets\n")
    add("| target | goal | measured | met |")
    add("|---|---|---|---|")
    for target, goal, measured, met in rows:
        add(f"| {target} | {goal} | {measured} | {'met' if met else ('**not met**' if met is False else '-')} |")
    add("")

    # ---- WatchDeployments and etcd's watch, side by side ----
    for run, w, e in etcd_pairs:
        add(f"## WatchDeployments against etcd's watch ({int(run):,}-model run)\n")
        add(f"{w.get('watchers', 0):,} streams over {w['connections']} connections, one watched "
            "model / key, one change a round; the same client for both. Deliveries are timed "
            "from the change's send: the live GetModel (which asks the hub) for the catalog, "
            "the Put (which commits) for etcd. The client "
            + ("decodes only each event's type and id or key (`--watch_decode=fields`), so the "
               "servers' fan-out is what is compared.\n" if w.get("client_decodes") == "fields"
               else "parses each event into its generated message.\n"))
        add("| | WatchDeployments | etcd watch |")
        add("|---|---|---|")
        for key, what, digits in [
                ("delivery_p50_ms", "delivery p50 (ms)", 1),
                ("delivery_p99_ms", "delivery p99 (ms)", 1),
                ("delivery_max_ms", "delivery max (ms)", 1),
                ("first_to_last_median_ms", "first-to-last spread, median round (ms)", 1),
                ("first_to_last_max_ms", "first-to-last spread, worst round (ms)", 1),
                ("first_delivery_median_ms", "first delivery after the send, median (ms)", 1),
                ("kib_per_watcher", "server memory per stream (KiB)", 2),
                ("open_all_seconds", "opening every stream (s)", 2),
                ("event_bytes", "bytes of one change message", 0),
                ("server_cpu_ms_per_round", "server CPU per round (ms)", 1),
                ("server_cpu_us_per_delivery", "server CPU per delivery (µs)", 2),
                ("client_cpu_ms_per_round", "client CPU per round (ms)", 1),
                ("client_cpu_us_per_delivery", "client CPU per delivery (µs)", 2),
                ("client_busy_until_last", "client core busy from send to last receipt", 2),
                ("deliveries_missing", "deliveries missing", 0)]:
            add(f"| {what} | {fmt(w.get(key), digits)} | {fmt(e.get(key), digits)} |")
        calls = (f"{w['live_call_p50_ms']:.1f} ms" if "live_call_p50_ms" in w else "-",
                 f"{e['put_p50_ms']:.1f} ms" if "put_p50_ms" in e else "-")
        add(f"| the change's call, p50 | live GetModel {calls[0]} | Put {calls[1]} |")
        add("")
        for name, r in [("WatchDeployments", w), ("etcd", e)]:
            for side in ["server", "client"]:
                key = f"{side}_threads_mean_per_round"
                if r.get(key):
                    add(f"- {name}, {side} threads, mean of a round (CPU, voluntary/involuntary "
                        f"switches): {r[key]}")
        add("")

    # ---- every load scenario ----
    failed = []
    for run in runs:
        add(f"## catalog-bench, {int(run):,} models\n")
        add("| scenario | connections | ok calls/s | p50 µs | p99 µs | p99.9 µs | / Health.Check | server CPU | load CPU | status codes |")
        add("|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            if r["run"] != run:
                continue
            if r["rpc"] and r["ok"] == 0:
                failed.append(f"{run}/{r['scenario']}")
            conn = r["connections"]
            if r["outstanding_per_connection"]:
                conn = f"{conn}×{r['outstanding_per_connection']}"
            codes = " ".join(f"{k}={v}" for k, v in r["codes"].items()) or "-"
            has_lat = r["ok"] > 0 and r["rpc"]
            add("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                r["scenario"], conn or "-",
                fmt(r.get("ok_per_second"), 0) if "ok_per_second" in r else "-",
                fmt(r["p50_us"], 1) if has_lat else "-", fmt(r["p99_us"], 1) if has_lat else "-",
                fmt(r["p999_us"], 1) if has_lat else "-",
                fmt(r.get("ratio_to_health"), 3),
                f"{r['server_cpu'] * 100:.0f}%" if "server_cpu" in r else "-",
                f"{r['client_cpu'] * 100:.0f}%" if "client_cpu" in r else "-", codes))
        add("")
        for r in results:
            if r["run"] != run:
                continue
            base = {"run", "scenario", "rpc", "connections", "outstanding_per_connection", "seconds", "ok",
                    "failed", "ok_per_second", "p50_us", "p99_us", "p999_us", "max_us", "codes",
                    "ratio_to_health", "server_cpu", "client_cpu"}
            extra = {k: v for k, v in r.items() if k not in base}
            if extra:
                add(f"- **{r['scenario']}**: " + ", ".join(
                    f"{k} {fmt(v, 3) if isinstance(v, float) else v}" for k, v in extra.items()))
        add("")

    # ---- micro-benchmarks ----
    if micro:
        add("## Micro-benchmarks (catalog-micro-bench)\n")
        add("| benchmark | wall | CPU | iterations | counters |")
        add("|---|---|---|---|---|")
        skip = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
                "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
                "error_occurred", "error_message"}
        for b in micro:
            if b.get("error_occurred"):
                add(f"| {b['name']} | error: {b.get('error_message', '')} | | | |")
                continue
            unit = b.get("time_unit", "ns")
            counters = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in b.items() if k not in skip)
            add(f"| {b['name']} | {b['real_time']:.4g} {unit} | {b['cpu_time']:.4g} {unit} | {b['iterations']} | {counters} |")
        add("")

    print("\n".join(lines))
    if failed:
        print(f"\n**Scenarios with no successful call: {', '.join(failed)}**")
        sys.exit(1)


if __name__ == "__main__":
    main()
