"""Fuzzing the file reader and importer: mutated copies of the real exports and the upload fixtures must
each either import or be refused with a message (`FileRefused`/`ImportRefused`); any other exception is a
bug, and so is a case that runs longer than the hang guard.

    .venv/bin/python -m bench.bench_fuzz [--cases 10000] [--seed 1] [--timeout 10] [--shared ../shared]

Each case is built from its number alone (`case(corpus, seed, i)`), so a failure is reproduced with
`--only I`. The cases run in a worker process that the driver kills and restarts when one exceeds
`--timeout` seconds (a hang). Prints the counts: cases, imported, refused, unexpected exceptions (with
their first cases), hangs, and the slowest cases. `tests/unit/test_fuzz_files.py` runs a few hundred.

A quarter of the CSV cases are read the way a large file on disk is (`read_file` streaming the rows
in small chunks), so the streamed path is fuzzed too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import random
import re
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "uploads"
MAX_INPUT = 300_000  # bytes of a corpus file a case starts from (longer text files are cut at a line end)

Case = tuple[str, bytes, list[str]]

#: header names that polars or a regex could take for patterns, blanks, reserved and canonical names
NAMES = ["*", "^C.*$", "^.*$", "(", ")", "[a-", "\\", "$", ".+", "?", "|", "{2}", "a|b", "", " ", "__row",
         "Total", "Итого", "date", "Date", "Campaign", "Кампания", "Amount Spent (SEK)", "Kostnad", "spend",
         "lead_id", "created_at", "\"quoted\"", "tab\there", "é", "名前", "x" * 300, "^", "$$", "^Kampanj$"]
#: cell values that are numbers only to a careless reader
NON_FINITE = ["inf", "-inf", "nan", "NaN", "1e309", "-1e309", "Infinity", "+inf", "INF", "1e400,5"]
TOTAL_LABELS = ["Total", "Total:", "Totalt", "Итого", "Всего", "Summa", "Gesamt", "Yhteensä", "I alt",
                "Total Recall Promo", "Gesamtpaket Sale", "Totalt nytt"]


# --- the corpus ----------------------------------------------------------------------------------------

def corpus(shared: Path | None, max_input: int = MAX_INPUT) -> list[tuple[str, bytes]]:
    """(name, bytes) of every export in `shared`/real-exports and every upload fixture, text files cut to
    `max_input` bytes at a line end (the rest adds time, not new shapes)."""
    paths = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    if shared is not None and (shared / "real-exports").is_dir():
        paths += sorted(p for p in (shared / "real-exports").rglob("*")
                        if p.is_file() and p.name not in ("PROFILE.json", "SOURCE.txt"))
    out = []
    for p in paths:
        data = p.read_bytes()
        if len(data) > max_input and not data.startswith(b"PK"):
            data = data[: data.rfind(b"\n", 0, max_input) + 1]
        out.append((p.name, data))
    return out


# --- mutations -------------------------------------------------------------------------------------------

def _text_of(data: bytes) -> tuple[str, str]:
    from kpi.sources.files import detect_encoding

    encoding, bom = detect_encoding(data)
    return data[bom:].decode(encoding, errors="replace"), encoding


def _sep_of(text: str) -> str:
    head = text[:4000]
    return max((",", ";", "\t", "|"), key=head.count)


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _pick_line(rng: random.Random, lines: list[str]) -> int:
    return rng.randrange(len(lines)) if lines else 0


def _cells(rng: random.Random, text: str, change: Callable[[str], str], share: float = 0.2) -> str:
    """Apply `change` to a random share of the cells of the text's lines."""
    sep = _sep_of(text)
    out = []
    for line in _lines(text):
        parts = line.split(sep)
        out.append(sep.join(change(p) if rng.random() < share else p for p in parts))
    return "\n".join(out)


def _header(rng: random.Random, text: str, change: Callable[[list[str]], list[str]]) -> str:
    lines = _lines(text)
    sep = _sep_of(text)
    # the header is the first line with the modal number of separators
    counts = Counter(ln.count(sep) for ln in lines[:50] if ln.strip())
    width = counts.most_common(1)[0][0] if counts else 0
    i = next((k for k, ln in enumerate(lines) if ln.count(sep) == width and ln.strip()), 0)
    lines[i] = sep.join(change(lines[i].split(sep)))
    return "\n".join(lines)


def _text_mutation(rng: random.Random, text: str) -> tuple[str, str]:
    """One of `_TEXT_MUTATIONS`, chosen by `rng`, applied to `text`; and its name."""
    sep = _sep_of(text)
    op = rng.choice(list(_TEXT_MUTATIONS))
    return _TEXT_MUTATIONS[op](rng, text, sep, _lines(text)), op


# Each text mutation takes (rng, text, its separator, its lines) and gives the mutated text; `lines` is
# the mutation's own copy to change.

def _cr_only(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """Old Mac line ends: every line ends in a bare CR."""
    return text.replace("\r\n", "\n").replace("\n", "\r")


def _mixed_endings(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """Each line ends in LF, CRLF or CR at random."""
    return "".join(ln + rng.choice(["\n", "\r\n", "\r"]) for ln in lines)


def _insert_cr(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A few stray CRs anywhere, inside fields too."""
    chars = list(text)
    for _ in range(rng.randint(1, 5)):
        chars.insert(rng.randrange(len(chars) + 1), "\r")
    return "".join(chars)


def _extra_sep(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A separator too many on a few lines."""
    for _ in range(rng.randint(1, 3)):
        i = _pick_line(rng, lines)
        pos = rng.randrange(len(lines[i]) + 1) if lines else 0
        lines[i] = lines[i][:pos] + sep + lines[i][pos:]
    return "\n".join(lines)


def _missing_sep(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A separator too few on a few lines."""
    for _ in range(rng.randint(1, 3)):
        i = _pick_line(rng, lines)
        if sep in lines[i]:
            lines[i] = lines[i].replace(sep, "", 1)
    return "\n".join(lines)


def _header_names(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """Half the header's names replaced by awkward ones (patterns, blanks, reserved and canonical names)."""
    return _header(rng, text, lambda h: [rng.choice(NAMES) if rng.random() < 0.5 else c for c in h])


def _dup_headers(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """The header's first name repeated (the others shifted right)."""
    return _header(rng, text, lambda h: [h[0], *h[:-1]] if len(h) > 1 else h)


def _blank_header(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """Every header name blank."""
    return _header(rng, text, lambda h: ["" for _ in h])


def _empty_lines(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A few empty, blank or separators-only lines anywhere."""
    for _ in range(rng.randint(1, 4)):
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["", sep * 3, " ", "\t"]))
    return "\n".join(lines)


def _non_finite(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """Half the numeric cells written as infinities, NaNs and overflowing numbers."""
    return _cells(rng, text, lambda c: rng.choice(NON_FINITE) if re.fullmatch(r"[\d.,\s\"]+", c) else c, 0.5)


def _huge_field(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """One line with an extra field of up to 2 million characters."""
    i = _pick_line(rng, lines)
    lines[i] = lines[i] + sep + "x" * rng.choice([70_000, 300_000, 2_000_000])
    return "\n".join(lines)


def _stray_quote(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A quote left open somewhere on one line."""
    i = _pick_line(rng, lines)
    pos = rng.randrange(len(lines[i]) + 1) if lines else 0
    lines[i] = lines[i][:pos] + '"' + lines[i][pos:]
    return "\n".join(lines)


def _nul(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A few NUL characters anywhere."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        chars.insert(rng.randrange(len(chars) + 1), "\x00")
    return "".join(chars)


def _total_label(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A line near the top, the bottom or anywhere whose first cell is a total word (or a name that starts
    like one)."""
    i = rng.choice([1, 2, len(lines) - 1, len(lines) - 2, _pick_line(rng, lines)]) % max(len(lines), 1)
    parts = lines[i].split(sep) if lines else [""]
    parts[0] = rng.choice(TOTAL_LABELS)
    lines[i] = sep.join(parts)
    return "\n".join(lines)


def _dup_lines(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """A few lines repeated."""
    for _ in range(rng.randint(1, 3)):
        i = _pick_line(rng, lines)
        lines.insert(i, lines[i] if lines else "")
    return "\n".join(lines)


def _decimal_mix(rng: random.Random, text: str, sep: str, lines: list[str]) -> str:
    """Some numbers rewritten with the other decimal mark and thousands groups."""
    return _cells(rng, text, lambda c: rng.choice(['"1 234,56"', "12.50", "1,234.5", "1.234,5", "1 234"])
                  if re.fullmatch(r"\"?[\d.,]+\"?", c) else c)


#: The text mutations by name, in the order `_text_mutation` draws from.
_TEXT_MUTATIONS: dict[str, Callable[[random.Random, str, str, list[str]], str]] = {
    "cr_only": _cr_only, "mixed_endings": _mixed_endings, "insert_cr": _insert_cr, "extra_sep": _extra_sep,
    "missing_sep": _missing_sep, "header_names": _header_names, "dup_headers": _dup_headers,
    "empty_lines": _empty_lines, "non_finite": _non_finite, "huge_field": _huge_field, "stray_quote": _stray_quote,
    "nul": _nul, "total_label": _total_label, "dup_lines": _dup_lines, "decimal_mix": _decimal_mix,
    "blank_header": _blank_header,
}


def _encode(rng: random.Random, text: str, encoding: str) -> tuple[bytes, str]:
    target = rng.choice([encoding, encoding, "utf-8", "utf-16-le", "utf-16-be", "cp1251", "koi8-r", "cp1252",
                         "latin-1"])
    data = text.encode(target, errors="replace")
    return data, f"as {target}"


def _xlsx_member_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Rewrite a workbook with one XML member's text cells or numbers changed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > 50_000_000:  # a zip bomb stays as it is
                return data, "xlsx left whole"
            members = [(i, zf.read(i)) for i in zf.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return data, "xlsx unreadable"
    out = io.BytesIO()
    op = rng.choice(["names", "non_finite", "drop_member", "shared_index"])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zw:
        targets = [i for i, _ in members if i.filename.startswith("xl/")]
        victim = rng.choice(targets).filename if targets else ""
        for info, body in members:
            if info.filename == victim:
                if op == "drop_member":
                    continue
                xml = body.decode("utf-8", errors="replace")
                if op == "names":
                    xml = re.sub(r"<t([^>]*)>[^<]*</t>", lambda m: f"<t{m.group(1)}>"
                                 + rng.choice(NAMES).replace("&", "&amp;").replace("<", "&lt;") + "</t>"
                                 if rng.random() < 0.3 else m.group(0), xml)
                elif op == "non_finite":
                    xml = re.sub(r"<v>[\d.]+</v>", lambda m: f"<v>{rng.choice(NON_FINITE)}</v>"
                                 if rng.random() < 0.3 else m.group(0), xml)
                else:
                    xml = re.sub(r"<v>\d+</v>", lambda m: "<v>999999</v>" if rng.random() < 0.3 else m.group(0), xml)
                body = xml.encode("utf-8")
            zw.writestr(info.filename, body)
    return out.getvalue(), f"xlsx {op} {victim}"


def mutate(rng: random.Random, name: str, data: bytes) -> Case:
    """One to three mutations of a corpus file; returns (name, bytes, what was done)."""
    done: list[str] = []
    if data.startswith(b"PK") and rng.random() < 0.6:
        data, what = _xlsx_member_mutation(rng, data)
        done.append(what)
    elif not data.startswith(b"PK") and rng.random() < 0.8 and data:
        text, encoding = _text_of(data)
        for _ in range(rng.randint(1, 3)):
            text, op = _text_mutation(rng, text)
            done.append(op)
        data, what = _encode(rng, text, encoding) if rng.random() < 0.4 else (
            text.encode(encoding, errors="replace"), f"as {encoding}")
        done.append(what)
        if rng.random() < 0.15:
            bom = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"])
            data = bom + data
            done.append(f"bom {bom!r}")
    for _ in range(rng.choice([0, 0, 1, 2])):
        op = rng.choice(["truncate", "byte_flip", "byte_flip"])
        if not data:
            break
        if op == "truncate":
            data = data[: rng.randrange(len(data))]
        else:
            buf = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
            data = bytes(buf)
        done.append(op)
    return name, data, done


def case(files: list[tuple[str, bytes]], seed: int, i: int) -> tuple[Case, bool]:
    """Case number `i`: a mutated corpus file, and whether it is read as a large file on disk (streamed)."""
    rng = random.Random(seed * 1_000_003 + i)
    name, data = files[rng.randrange(len(files))]
    mutated = mutate(rng, name, data)
    return mutated, not mutated[1].startswith(b"PK") and rng.random() < 0.25


# --- running a case --------------------------------------------------------------------------------------

@contextlib.contextmanager
def _streamed() -> Iterator[None]:
    """Read files on disk the way files above 8 MB are read: sniffed from the head, rows streamed in small
    chunks (so that record boundaries fall everywhere)."""
    from kpi.sources import files

    saved = files._LARGE, files._CHUNK_BYTES
    files._LARGE, files._CHUNK_BYTES = 2048, 16_000
    try:
        yield
    finally:
        files._LARGE, files._CHUNK_BYTES = saved


def run_case(name: str, data: bytes, streamed: bool = False) -> tuple[str, str]:
    """('imported', '') or ('refused', the message of FileRefused/ImportRefused); any other exception
    propagates. A file no preset recognises is imported with the mapping `suggest` makes for each table,
    as a person would."""
    from kpi.sources.files import FileRefused, RawTable, read_bytes, read_file
    from kpi.sources.importer import ImportRefused, import_raw, resolve
    from kpi.sources.mapping import Mapping, suggest

    raw: RawTable
    if streamed:
        with tempfile.TemporaryDirectory() as tmp, _streamed():
            path = Path(tmp) / (Path(name).stem + ".csv")
            path.write_bytes(data)
            try:
                raw = read_file(path)
                mapping, _ = resolve(raw)
                import_raw(raw, mapping)
                return "imported", ""
            except FileRefused as exc:
                return "refused", str(exc)
    try:
        raw = read_bytes(data, name)
    except FileRefused as exc:
        return "refused", str(exc)
    try:
        mapping, _ = resolve(raw)
        import_raw(raw, mapping)
        return "imported", ""
    except ImportRefused as exc:
        outcome = ("refused", str(exc))
    for table in ("leads", "spend", "traffic"):
        fields = suggest(raw.sample, table, raw.columns, raw.detected.decimal)
        if not fields:
            continue
        try:
            import_raw(raw, Mapping(table, fields, label="suggested"))
            outcome = ("imported", "")
        except ImportRefused as exc:
            outcome = ("refused", str(exc)) if outcome[0] == "refused" else outcome
    return outcome


# --- the driver ------------------------------------------------------------------------------------------

def _worker(conn: Connection, shared: str | None, seed: int) -> None:
    os.environ.setdefault("KPI_MAPPINGS", str(Path(tempfile.mkdtemp(prefix="kpi-fuzz-")) / "mappings.json"))
    files = corpus(Path(shared) if shared else None)
    import kpi.sources.importer  # noqa: F401  (loaded before the first case's clock starts)

    conn.send("ready")
    while True:
        i = conn.recv()
        if i is None:
            return
        (name, data, ops), streamed = case(files, seed, i)
        start = time.perf_counter()
        try:
            outcome, detail = run_case(name, data, streamed)
        except Exception as exc:  # the point: any other exception is what is counted
            outcome = "unexpected"
            detail = f"{type(exc).__name__}: {str(exc)[:200]}\n{traceback.format_exc(limit=-3)}"
        conn.send((outcome, time.perf_counter() - start, name, ops, streamed, detail))


def _reason(message: str, name: str) -> str:
    """A refusal's message without the file name and the numbers, to count refusals by kind."""
    return re.sub(r"\d[\d,.]*", "N", message.replace(name, "FILE"))[:110]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds after which a case is a hang")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--only", type=int, help="run only this case number (and show its traceback)")
    args = parser.parse_args()
    shared = args.shared if Path(args.shared, "real-exports").is_dir() else None
    indices = [args.only] if args.only is not None else list(range(args.cases))
    ctx = multiprocessing.get_context("spawn")

    def start() -> tuple[multiprocessing.process.BaseProcess, Connection]:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, shared, args.seed), daemon=True)
        proc.start()
        assert parent.recv() == "ready"  # starting the worker (polars, the corpus) is not a case's time
        return proc, parent

    proc, conn = start()
    counts: Counter[str] = Counter()
    slowest: list[tuple[float, int, str, list[str]]] = []
    failures: list[str] = []
    reasons: Counter[str] = Counter()
    began = time.perf_counter()
    for i in indices:
        conn.send(i)
        if not conn.poll(args.timeout):
            counts["hang"] += 1
            failures.append(f"case {i}: HANG over {args.timeout:.0f} s")
            proc.kill()
            proc.join()
            proc, conn = start()
            continue
        outcome, seconds, name, ops, streamed, detail = conn.recv()
        counts[outcome] += 1
        slowest = sorted([*slowest, (seconds, i, name, ops)], reverse=True)[:5]
        if outcome == "refused":
            reasons[_reason(detail, name)] += 1
        if outcome == "unexpected":
            failures.append(f"case {i}: {name} {ops}{' streamed' if streamed else ''}: {detail}")
    conn.send(None)
    proc.join(5)
    total = time.perf_counter() - began
    print(f"{len(indices)} cases in {total:.0f} s on {os.cpu_count()} cores (seed {args.seed}, "
          f"hang guard {args.timeout:.0f} s)")
    print(f"imported {counts['imported']}, refused {counts['refused']}, unexpected exceptions "
          f"{counts['unexpected']}, hangs {counts['hang']}")
    print("slowest: " + "; ".join(f"case {i} {s:.2f} s ({n}, {', '.join(o)})" for s, i, n, o in slowest))
    print("most frequent refusals:")
    for reason, n in reasons.most_common(12):
        print(f"{n:6}  {reason}")
    for f in failures[:40]:
        print(f)
    kinds = Counter(f.split(": ", 2)[-1].split("\n")[0][:90] for f in failures)
    for kind, n in kinds.most_common(20):
        print(f"{n:5} × {kind}")


if __name__ == "__main__":
    main()
