"""What masking secrets costs per step, and on large adversarial answers.

    .venv/bin/python -m bench.redaction            # this checkout
    REQFLO_SRC=/work/main .venv/bin/python -m bench.redaction   # another checkout's redactor

"Typical step": the strings one step's evidence holds (a URL with a secret in the query, 12
headers, a 2 KB JSON answer echoing a token, a 16 KB JSON answer without one), checked with
`occurs_in` and masked with `redact` where something occurs, as `redact_step` does; three
secrets of 16-32 characters. "Adversarial": one 200,000-character text (random base64 characters,
random base64 of binary data, escapes) against secret sets including a 1-character and a
4-character secret; with a time cap per case (a case over the cap prints "> cap").
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
import sys
import time
from collections.abc import Callable

from bench import common  # noqa: F401  (puts the repository on sys.path)

if os.environ.get("REQFLO_SRC"):
    sys.path.insert(0, os.environ["REQFLO_SRC"])
    for name in [n for n in sys.modules if n.startswith("reqflo")]:
        del sys.modules[name]

try:
    from reqflo.engine.redaction import Redactor
except ImportError:  # a checkout from before the redactor became a package
    from reqflo.engine.redact import Redactor  # type: ignore[no-redef]

SECRETS = ["sk_live_R5runQ8vX2pL9mZ4rT8wK1nB", "tok/en+42_Hj7Lw0PzXa9", "p@ss w0rd-Ünï"]
CAP_SECONDS = 20.0


def _typical() -> tuple[list[str], list[str]]:
    rng = random.Random(3)
    url = f"https://api.example.test/v1/orders?token={SECRETS[1].replace('/', '%2F')}&page=2"
    headers = [f"value-{i}-{rng.random()}" for i in range(12)]
    echo = json.dumps({"data": json.dumps({"token": SECRETS[1], "n": list(range(300))})})
    plain = json.dumps(
        [{"id": i, "name": f"user{i}", "email": f"u{i}@example.test"} for i in range(300)]
    )
    return [url, *headers, echo], [plain]


def _clean_kinds() -> dict[str, str]:
    """Answers holding no secret that the newer views touch: non-ASCII text (the NFKC view,
    the non-ASCII forms), multi-line text and wrapped base64 (the line-joining view)."""
    rng = random.Random(5)
    words = ["Grüße", "Straße", "naïve", "日本語", "Ünïcödé", "e\u0301t\u00e9", "ﬁle"]
    wide = json.dumps([{"id": i, "name": " ".join(rng.choices(words, k=4))} for i in range(300)])
    log = "\n".join(
        f"2026-12-01T06:00:{i % 60:02d}Z worker INFO step {i} passed" for i in range(300)
    )
    pem = base64.encodebytes(rng.randbytes(12_000)).decode()
    return {
        f"{len(wide) // 1024} KB non-ASCII answer, some NFD": wide,
        f"{len(log) // 1024} KB multi-line log": log,
        f"{len(pem) // 1024} KB MIME-wrapped base64 of binary data": pem,
    }


def _per_step(redactor: Redactor, found: list[str], clean: list[str]) -> None:
    strings = found + clean
    if redactor.occurs_in(strings):
        for text in strings:
            redactor.redact(text)


def _timed(action: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    print(f"load average: {os.getloadavg()}")
    found, clean = _typical()
    start = time.perf_counter()
    redactor = Redactor(SECRETS)
    print(f"build a redactor for 3 secrets: {(time.perf_counter() - start) * 1000:.2f} ms")
    per_step = _timed(lambda: _per_step(redactor, found, clean), 20)
    print(
        f"typical step (occurs_in + redact, {sum(map(len, found + clean))} chars): "
        f"{per_step * 1000:.2f} ms"
    )
    only_clean = _timed(lambda: redactor.occurs_in(clean), 20)
    print(f"16 KB answer holding no secret (occurs_in): {only_clean * 1000:.2f} ms")
    for name, text in _clean_kinds().items():
        took = _timed(lambda text=text: redactor.occurs_in([text]), 20)
        print(f"{name} (occurs_in): {took * 1000:.2f} ms")
    rng = random.Random(9)
    texts = {
        "base64 chars": "".join(
            rng.choices(string.ascii_letters + string.digits + "+/", k=200_000)
        ),
        "base64 of binary": base64.b64encode(rng.randbytes(150_000)).decode(),
        "escapes": "".join(rng.choices("%25\\u00&#x;+" + string.hexdigits, k=200_000)),
        # A short and a long secret found next to each other hundreds of times (a short one
        # beside a masked one is masked too: `Redactor._beside_masks`).
        "secret-dense": "".join(rng.choices("abcdx -", k=200_000)),
    }
    for secrets in (["x"], ["abcd"], ["x", "abcd"], SECRETS):
        for name, text in texts.items():
            adversarial = Redactor(secrets)
            # Only the first 20,000 characters when the old redactor is measured (it takes
            # minutes on all of it); the figure printed is per 200,000 characters either way.
            sample = text if not os.environ.get("REQFLO_SRC") else text[:20_000]
            start = time.perf_counter()
            adversarial.redact(sample)
            took = (time.perf_counter() - start) * len(text) / len(sample)
            print(f"200,000 chars of {name}, secrets {[s[:6] for s in secrets]}: {took:.2f} s")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
