"""Fuzzing the reader and importer in CI: a few hundred mutated copies of the real exports and the upload
fixtures (truncated, bytes flipped, CR-only and mixed line ends, inserted CRs, extra and missing
separators, header names with regex metacharacters, BOMs, other encodings, NULs, huge fields, duplicated
headers, empty lines, non-finite and mixed-mark numbers, total labels, damaged workbooks; a quarter of the
CSVs read as streamed large files). Each must import or be refused with FileRefused/ImportRefused: any
other exception fails, and so does a case slower than 10 s. `bench/bench_fuzz.py` runs 10,000 of them."""

from __future__ import annotations

import time
import traceback
from collections import Counter
from pathlib import Path

import pytest

from bench.bench_fuzz import case, corpus, run_case

CASES = 300
SEED = 20  # other seeds: python -m bench.bench_fuzz --seed N


def test_fuzzed_exports_import_or_are_refused(shared_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_MAPPINGS", str(tmp_path / "mappings.json"))  # no saved mapping of the machine's
    files = corpus(shared_dir, max_input=60_000)
    outcomes: Counter[str] = Counter()
    failures, slow = [], []
    for i in range(CASES):
        (name, data, ops), streamed = case(files, SEED, i)
        start = time.perf_counter()
        try:
            outcomes[run_case(name, data, streamed)[0]] += 1
        except Exception as exc:  # anything but a refusal is a bug: collect them all, then fail
            failures.append(f"case {i} ({name}, {ops}, streamed={streamed}): {type(exc).__name__}: {exc}\n"
                            + "".join(traceback.format_tb(exc.__traceback__)[-3:]))
        if time.perf_counter() - start > 10:
            slow.append(f"case {i} ({name}, {ops})")
    assert not failures, "\n\n".join(failures[:5])
    assert not slow, slow
    # the mutations leave many files importable and refuse others: both paths are exercised
    assert outcomes["imported"] >= CASES // 10 and outcomes["refused"] >= CASES // 10, outcomes
