"""Benchmark of run_course(): screening the sixth infusion of a course (the example course of
tests/course/data with three more infusions), median and p99, once without and once with an
acknowledgement carried over from the screening (which screens the reference infusions too).
Goal (issue 13): median <= 3 ms on the 2-core reference machine."""

from __future__ import annotations

import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

from ketascreen.models.course import Course
from ketascreen.models.parsing import parse_course
from ketascreen.screening import rule_set_in_force, run_course

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "tests" / "course" / "data" / "course-example.json"
MORE_STARTS = ("2026-12-04", "2026-12-07", "2026-12-09")


def six_infusions(data: dict[str, Any]) -> dict[str, Any]:
    """The example course with infusions 4-6 repeating infusion 3 on later days."""
    course = copy.deepcopy(data)
    for number, day in enumerate(MORE_STARTS, start=4):
        infusion = copy.deepcopy(course["infusions"][2])
        infusion.update(number=number, start=f"{day}T09:00")
        infusion["pre"].update(last_solids=f"{day}T01:00", last_clear_fluids=f"{day}T07:00")
        course["infusions"].append(infusion)
    return course


def _timings(course: Course, runs: int) -> tuple[float, float]:
    rules = rule_set_in_force()
    run_course(course, rules=rules)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run_course(course, rules=rules)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1e3, samples[int(len(samples) * 0.99)] * 1e3


def main() -> None:
    """Print the figures."""
    data = six_infusions(json.loads(COURSE.read_text(encoding="utf-8")))
    acknowledged = copy.deepcopy(data)
    acknowledged["screening"]["acknowledgements"] = [
        {"concept": "benzodiazepine", "reason": "Tapering; held the morning dose."}]
    for infusion in acknowledged["infusions"]:
        infusion["pre"]["medications"] = None  # Xanax stays: its acknowledgement carries on
    for name, course in (("sixth infusion", data), ("... with a carried ack", acknowledged)):
        parsed = parse_course(course)
        assert len(parsed.infusions) == 6
        median, p99 = _timings(parsed, 1000)
        print(f"run_course() {name:23s} median {median:.3f} ms   p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
