"""The app's server time with 1M leads: first paint of the Overview, and a redraw after a filter change.

    .venv/bin/python -m bench.bench_app [--leads 1000000] [--repeat 5]

Runs the real app script (AppTest, in process: what `streamlit run` executes on each rerun, without
the browser) on a store workspace of generated leads, spend and traffic. Prints per page: the first
run of a fresh session (cold caches: loading the workspace and every engine call), and the rerun
after changing the channel filter (new filters: every engine call recomputed), then after setting it
back (cached). Targets (issue 3): a filter change redraws in under 0.5 s, first paint under 3 s. Also
prints the time opening the workspace takes from its stored prepared forms against preparing its versions,
the memory a prepared workspace holds, and the bound on what the app keeps of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from bench.generate import generate

PAGES = ("pages/overview.py", "pages/funnel.py", "pages/campaigns.py", "pages/segments.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["KPI_DATA_DIR"] = tempfile.mkdtemp(prefix="kpi-bench-app-")

    from streamlit.testing.v1 import AppTest

    from kpi.store import Store

    store = Store(os.environ["KPI_DATA_DIR"])
    ws = store.create_workspace("Bench").id
    started = time.perf_counter()
    for name, frame in generate(args.leads).items():
        store.save(ws, name, frame, source="bench generator")
    print(f"{args.leads:,} leads saved to a workspace in {time.perf_counter() - started:.1f} s "
          f"({os.cpu_count()} cores)")
    from kpi.workspace import Workspace
    from ui.workspace import STORED_KEPT

    started = time.perf_counter()
    size = Workspace.prepared(store.tables(ws), store.settings(ws)).size_bytes / 2**20
    preparing = time.perf_counter() - started
    started = time.perf_counter()
    Workspace.opened(store.prepared_tables(ws), store.settings(ws))
    print(f"opening it: {time.perf_counter() - started:.2f} s from the stored prepared forms (what the app does), "
          f"{preparing:.2f} s preparing the versions")
    print(f"the prepared workspace holds {size:,.0f} MiB; the app keeps at most {STORED_KEPT} stored workspaces "
          f"prepared (shared by every session): about {STORED_KEPT * size:,.0f} MiB at this size")
    print(f"{'page':<12} {'first paint':>12} {'filter change (min / median)':>30} {'cached':>10}")
    for page in PAGES:
        app = AppTest.from_file("../app.py", default_timeout=600)
        app.query_params.update({"ws": ws, "period": "last_12_months"})
        start = time.perf_counter()
        app.run()
        if page != PAGES[0]:
            app.switch_page(page).run()
        first = time.perf_counter() - start
        assert not app.exception, app.exception
        channels = app.multiselect(key="channel").options
        changes, cached = [], []
        for i in range(args.repeat):
            app.multiselect(key="channel").set_value([channels[i % len(channels)]])
            start = time.perf_counter()
            app.run()
            changes.append(time.perf_counter() - start)
            app.multiselect(key="channel").set_value([])
            start = time.perf_counter()
            app.run()
            cached.append(time.perf_counter() - start)
            assert not app.exception, app.exception
        name = page.split("/")[-1].removesuffix(".py")
        print(f"{name:<12} {first:>11.2f}s {min(changes):>14.3f}s / {statistics.median(changes):.3f}s "
              f"{min(cached):>9.3f}s")


if __name__ == "__main__":
    main()
