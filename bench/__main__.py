"""`python -m bench [attribution] [api] [notify] [judge] [short-judge] [watch] [watch-latency] [storm]
[outage] [delivery]`: run benchmarks, print them, rewrite bench/RESULTS.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rich.console import Console

from bench import (
    alert_storm,
    api,
    attribution,
    delivery,
    judge_quality,
    notify,
    outage,
    report,
    short_judge,
    watch_latency,
    watch_scale,
)
from bench.common import Section, reference_loop

BENCHMARKS: dict[str, Callable[[argparse.Namespace], Section]] = {
    "attribution": lambda args: attribution.run(repeat=args.repeat),
    "api": lambda args: api.run(requests=args.requests),
    "notify": lambda args: notify.run(deploys=args.deploys),
    "judge": lambda args: judge_quality.run(),
    "short-judge": lambda args: short_judge.run(),
    "watch": lambda args: watch_scale.run(args.watches, databases=args.watch_databases),
    "watch-latency": lambda args: watch_latency.run(),
    "storm": lambda args: alert_storm.run(),
    "outage": lambda args: outage.run(outage=args.outage_seconds),
    "delivery": lambda args: delivery.run(),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="*", metavar="|".join(BENCHMARKS), help="default: all")
    parser.add_argument("--repeat", type=int, default=attribution.REPEAT, help="attribution: best of N")
    parser.add_argument("--requests", type=int, default=api.REQUESTS, help="api: requests per database")
    parser.add_argument("--deploys", type=int, default=notify.DEPLOYS, help="notify: deploys per database")
    parser.add_argument(
        "--watches",
        type=int,
        default=watch_scale.WATCHES,
        help="watch: concurrent watches (fewer: faster)",
    )
    parser.add_argument(
        "--watch-databases",
        type=lambda text: tuple(text.split(",")),
        default=watch_scale.DATABASES,
        help=f"watch: comma-separated, of {','.join(watch_scale.DATABASES)}",
    )
    parser.add_argument(
        "--outage-seconds", type=float, default=outage.OUTAGE, help="outage: how long Slack is down"
    )
    parser.add_argument("--no-write", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = parser.parse_args(argv)
    unknown = [name for name in args.which if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    if args.repeat < 1 or args.requests < 1 or args.deploys < 1 or args.watches < 1:
        parser.error("--repeat, --requests, --deploys and --watches must be at least 1")
    if not args.watch_databases or set(args.watch_databases) - set(watch_scale.DATABASES):
        parser.error(f"--watch-databases: choose from {', '.join(watch_scale.DATABASES)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=120)
    sections: dict[str, Section] = {}
    failed = False
    for name in args.which or list(BENCHMARKS):
        speed = reference_loop()
        with console.status(f"running the {name} benchmark…"):
            try:
                section = BENCHMARKS[name](args)
            except Exception as exc:  # one broken benchmark must not hide the others
                console.print_exception()
                section, failed = (
                    Section(f"{name}: failed", [("error", f"{type(exc).__name__}: {exc}")]),
                    True,
                )
        section.measured_at, section.cpu_reference = report.now(), speed
        report.print_section(console, section)
        sections[name] = section
    if not args.no_write:
        path = report.write_markdown(report.merge_with_last(sections), list(BENCHMARKS))
        console.print(f"wrote {path}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
