"""Peak memory of `reqflo run`: 1k vs 100k data rows (flat?), and a 50 MB response body.

Rows: a one-step journey (GET /products with the row number in the query) per CSV row, with
`--parallel 4` and the JSON report streamed to a file, as a CI job would. Memory must not grow
with the number of rows. Body: one GET of a ~50 MiB JSON document, checked once by status only
(the body is streamed past, only the 256 KiB evidence is kept), once by singular JSONPath
assertions (the body is kept and scanned, only the selected values are built) and once by a
wildcard JSONPath (the whole document is parsed into Python objects). Peak RSS comes from
`/usr/bin/time -v`.

    .venv/bin/python -m bench.memory [--small 1000] [--large 100000] [--body-mb 50]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from bench.common import PYTHON, REPO, REQFLO, demo_shop, measure, write_config

ROW_JOURNEY = """
journey:
  name: Catalogue row
  inputs: [{name: n, type: integer}]
  steps:
    - id: list
      request: {method: GET, url: "{{ env.base_url }}/products", query: {row: "{{ inputs.n }}"}}
      assertions:
        - {type: status_code, expected: 200}
        - {type: json_path, path: $.products, operator: length_equals, expected: 3}
"""

BODY_JOURNEY = """
journey:
  name: Big body
  steps:
    - id: blob
      request: {method: GET, url: "{{ env.base_url }}/blob.json"}
      timeout_ms: 120000
      assertions: [ASSERTIONS]
"""
STATUS_ONLY = "{type: status_code, expected: 200}"
# Singular paths (names and indexes) are found by scanning the body; the last record is read
# deep inside the document.
WITH_JSON_PATH = (
    STATUS_ONLY + ", {type: json_path, path: $.count, operator: greater_than, expected: 0}"
    ", {type: json_path, path: '$.items[1000].sku', operator: equals, expected: tea-01}"
)
# A wildcard selects many nodes, so the document is parsed whole: the known limit.
WITH_WILDCARD = STATUS_ONLY + ", {type: json_path, path: '$.items[*].id', operator: not_empty}"


def rows_file(path: Path, count: int) -> Path:
    with path.open("w") as file:
        file.write("case,n\n")
        file.writelines(f"row {i},{i}\n" for i in range(count))
    return path


def run_rows(temp: Path, count: int) -> None:
    journey = temp / "row.yaml"
    journey.write_text(ROW_JOURNEY)
    rows = rows_file(temp / f"rows-{count}.csv", count)
    report = temp / f"report-{count}.json"
    command = [
        REQFLO, "run", str(journey), "--config", str(temp / "reqflo.yaml"), "--env", "bench",
        "--data", str(rows), "--parallel", "4", "--reporter", "json", "--output", str(report),
    ]  # fmt: skip
    result = measure(command)
    if result.returncode != 0:
        raise SystemExit(f"{count} rows failed:\n{result.output}")
    size_mb = report.stat().st_size / 1024 / 1024
    report.unlink()
    print(
        f"{count:>7} rows: {result.seconds:7.1f} s  peak RSS {result.peak_rss_mb:6.1f} MiB  "
        f"(JSON report {size_mb:.0f} MiB on disk)",
        flush=True,
    )


def run_body(temp: Path, size_mb: float) -> None:
    server = subprocess.Popen(
        [PYTHON, "-m", "bench.blob_server", "--size-mb", str(size_mb)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url, size = server.stdout.readline().split()
        write_config(temp, base_url)
        for label, assertions in (
            ("status only", STATUS_ONLY),
            ("singular JSONPaths", WITH_JSON_PATH),
            ("wildcard JSONPath", WITH_WILDCARD),
        ):
            journey = temp / "body.yaml"
            journey.write_text(BODY_JOURNEY.replace("ASSERTIONS", assertions))
            command = [
                REQFLO, "run", str(journey), "--config", str(temp / "reqflo.yaml"),
                "--env", "bench", "--reporter", "json", "--output", str(temp / "body.json"),
            ]  # fmt: skip
            result = measure(command)
            if result.returncode != 0:
                raise SystemExit(f"body run failed:\n{result.output}")
            print(
                f"{int(size) / 1024 / 1024:.0f} MiB body, {label}: {result.seconds:.1f} s  "
                f"peak RSS {result.peak_rss_mb:.1f} MiB",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--body-mb", type=float, default=50)
    parser.add_argument("--skip-rows", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reqflo-bench-") as folder:
        temp = Path(folder)
        if not args.skip_rows:
            with demo_shop() as base_url:
                write_config(temp, base_url)
                run_rows(temp, args.small)
                run_rows(temp, args.large)
        run_body(temp, args.body_mb)


if __name__ == "__main__":
    main()
