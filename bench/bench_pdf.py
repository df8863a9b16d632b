"""Benchmark of render + sign of the checklist (issue 4 goal: median <= 250 ms), for an EC P-256
and an RSA-2048 key, in one process after warm-up (pyHanko's one-off import is reported apart)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import ketascreen
from ketascreen.reports.keys import generate_self_signed, load_signer
from ketascreen.reports.output import produce_checklist
from ketascreen.screening import run

EXAMPLE = Path(__file__).resolve().parents[1].parent / "shared/spec/examples/case-example.json"
RUNS = 15


def acknowledged_example() -> ketascreen.models.Case:
    """The spec's example with its benzodiazepine acknowledged: CLEAR, so it may be signed."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["acknowledgements"] = [{"concept": "benzodiazepine",
                                 "reason": "Evening alprazolam held the night before."}]
    return ketascreen.parse_case(data)


def main() -> None:
    """Print the figures."""
    start = time.perf_counter()
    import pyhanko.sign.signers  # noqa: F401, PLC0415 - measured on purpose

    print(f"pyHanko import (once per process): {(time.perf_counter() - start) * 1e3:.0f} ms")
    case = acknowledged_example()
    screening = run(case)
    for key_type in ("ec-p256", "rsa-2048"):
        pair = generate_self_signed("Dr Bench", b"bench-pass", key_type=key_type)  # type: ignore[arg-type]
        begin = time.perf_counter()
        signing = load_signer(pair.pkcs12, b"bench-pass")
        print(f"open the {key_type} key store (once per session): "
              f"{(time.perf_counter() - begin) * 1e3:.0f} ms")
        samples = []
        for _ in range(RUNS + 2):
            begin = time.perf_counter()
            produce_checklist(screening, signing=signing)
            samples.append(time.perf_counter() - begin)
        samples = sorted(samples[2:])
        median = statistics.median(samples) * 1e3
        print(f"render + attach + sign, {key_type}: median {median:.0f} ms"
              f" (min {samples[0] * 1e3:.0f}, max {samples[-1] * 1e3:.0f}, {RUNS} runs)")
    samples = []
    for _ in range(RUNS):
        begin = time.perf_counter()
        produce_checklist(screening)
        samples.append(time.perf_counter() - begin)
    print(f"render + attach, unsigned: median {statistics.median(samples) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
