"""The alert-storm benchmark's report: from what a run recorded to the rows of bench/RESULTS.md."""

from __future__ import annotations

import re
from collections import Counter

from bench.alert_storm_record import DRAIN_LIMIT, Run, SlackCall
from bench.common import Section, median, millis, percentile, seconds
from shepherd.domain.jobs import JobKind

STATUS_RE = re.compile(r"(\d+) of (\d+) alerts firing")


def _since(run: Run, at: float) -> str:
    return seconds(at - run.first_sent)


def report(name: str, run: Run, alerts: int, section: Section) -> None:
    """One database's rows: the webhook, the pages against the suspects, routing and the jobs."""
    took = [p.took for p in run.posts]
    bad = [p for p in run.posts if p.status != 200]
    last_sent = max(p.sent for p in run.posts)
    section.add(
        f"{name}: webhook answer p50 / p99 / max",
        f"{millis(median(took))} / {millis(percentile(took, 99))} / {millis(max(took))}",
    )
    late = max(p.late for p in run.posts)
    statuses = Counter(p.status for p in bad)
    first_bad = f" (first: {bad[0].status} {bad[0].error[:120]})" if bad else ""
    section.add(
        f"{name}: POSTs non-200 / sent / latest behind schedule",
        f"{len(bad)}{' ' + str(dict(statuses)) if bad else ''} / {len(run.posts)} in "
        f"{last_sent - run.first_sent:.1f} s / {millis(late)}{first_bad}",
    )

    page_posts = [c for c in run.calls if c.method == "chat.postMessage" and c.key.startswith("page:")]
    page_updates = [c for c in run.calls if c.method == "chat.update" and c.key.startswith("page:")]
    triggers = [e for e in run.events if e.action == "trigger"]
    page_ids = {c.key.split(":")[1] for c in page_posts}
    suspects = set(run.deploys.values())
    db_pages: dict[int, int] = run.db["pages"]  # page id → deploy id
    slack_deploys = {db_pages.get(int(p)) for p in page_ids}
    pd_deploys = {e.deploy_id for e in triggers}
    section.add(
        f"{name}: pages (Slack page ids / PagerDuty dedup keys / database) vs suspect deploys",
        f"{len(page_ids)} / {len({e.dedup_key for e in triggers})} / {len(db_pages)} vs {len(suspects)}"
        + ("" if slack_deploys == pd_deploys == set(db_pages.values()) == suspects else " (deploys differ!)"),
    )
    if page_posts:
        firsts = sorted(min(c.at for c in page_posts if c.key.split(":")[1] == p) for p in page_ids)
        section.add(
            f"{name}: first POST → first page / every page message out",
            f"{_since(run, firsts[0])} / {_since(run, max(c.at for c in page_posts))}",
        )
    if triggers:
        section.add(
            f"{name}: first POST → last PagerDuty trigger",
            f"{_since(run, max(e.at for e in triggers))} ({len(triggers)} triggers, "
            f"{len(run.events) - len(triggers)} other events)",
        )
    section.add(
        f"{name}: page messages posted / expected; page updates",
        f"{len(page_posts)} / {run.expected_messages}; {len(page_updates)} chat.update",
    )
    _routing(name, run, alerts, page_posts + page_updates, last_sent, section)


def _routing(
    name: str, run: Run, alerts: int, page_calls: list[SlackCall], last_sent: float, section: Section
) -> None:
    db = run.db
    opened = [o.timestamp() - run.wall_offset for o in db["opened"]]  # as perf_counter readings
    if opened:
        section.add(
            f"{name}: pages opened (s after the first POST)",
            ", ".join(f"{at - run.first_sent:.1f}" for at in opened),
        )
    _progress(name, run, last_sent, section)
    route_done = [
        f for k, s, _, f in db["jobs"] if k == JobKind.ROUTE_ALERTS and s == "done" and f is not None
    ]
    if route_done and run.drained_at is not None:
        finished = max(route_done).timestamp() - run.wall_offset
        section.add(
            f"{name}: first POST → every alert routed (after the last POST)",
            f"{_since(run, finished)} (+{seconds(max(0.0, finished - last_sent))})",
        )
    shown = _last_status(page_calls, db["paged"])
    if shown is not None:
        section.add(
            f"{name}: first POST → page messages count every alert (after the last POST)",
            f"{_since(run, shown)} (+{seconds(max(0.0, shown - last_sent))})",
        )
    if run.drained_at is None:
        section.add(f"{name}: drained", f"no: still busy {DRAIN_LIMIT:.0f} s after the last POST")
    section.add(
        f"{name}: alerts stored / routed / on a page",
        f"{db['alerts']:,} / {db['routed']:,} / {db['paged']:,} (of {alerts:,} sent)",
    )
    by_kind: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for kind, state, count, _ in db["jobs"]:
        by_kind[kind] += count
        states[state] += count
    kinds = ", ".join(
        f"{k} {by_kind[k]:,}" for k in (JobKind.ROUTE_ALERTS, JobKind.SYNC_MESSAGES, JobKind.PAGE_PAGERDUTY)
    )
    states_text = ", ".join(f"{s} {n:,}" for s, n in states.items())
    section.add(f"{name}: jobs (whole run, deploys' own included)", f"{kinds}; {states_text}")
    section.add(f"{name}: timeline entries", f"{db['timeline']:,}")
    section.add(f"{name}: load average (1 min) before / after", f"{run.load[0]:.2f} / {run.load[1]:.2f}")
    if run.unauthenticated_status != 401:
        section.add(f"{name}: POST without the token", f"HTTP {run.unauthenticated_status} (expected 401)")


def _progress(name: str, run: Run, last_sent: float, section: Section) -> None:
    """The router against the storm, from the sampled counts: rate, backlog, what was left."""
    during = [p for p in run.progress if p[0] <= last_sent]
    if not during:
        return
    at, stored, routed = during[-1]
    rate = routed / max(1e-9, at - run.first_sent)
    backlog = max(s - r for _, s, r in run.progress)
    section.add(
        f"{name}: routing during the storm: alerts/s; backlog at the last POST / at most",
        f"{rate:,.0f}/s (alerts came at {stored / max(1e-9, at - run.first_sent):,.0f}/s); "
        f"{stored - routed:,} / {backlog:,}",
    )
    if run.drained_at is None:
        end, stored, routed = run.progress[-1]
        after = (routed - during[-1][2]) / max(1e-9, end - during[-1][0])
        left = stored - routed
        guess = f", ~{seconds(left / after)} more at {after:,.0f}/s" if after > 0 and left else ""
        section.add(f"{name}: unrouted when the wait ended", f"{left:,}{guess}")


def _last_status(page_calls: list[SlackCall], paged: int) -> float | None:
    """When every page message first counted all its page's alerts ("N of M alerts firing", M
    the page's final count); None when some never did, or the counts fall short of `paged`."""
    final: dict[str, int] = {}  # page id → its final count
    seen: dict[str, list[tuple[float, int]]] = {}  # message key → (arrival, count) of each call
    for call in page_calls:
        match = STATUS_RE.search(call.text)
        if match:
            page, total = call.key.split(":")[1], int(match.group(2))
            final[page] = max(final.get(page, 0), total)
            seen.setdefault(call.key, []).append((call.at, total))
    if not seen or sum(final.values()) < paged:
        return None
    reached = []
    for key, calls in seen.items():
        full = [at for at, total in calls if total == final[key.split(":")[1]]]
        if not full:
            return None
        reached.append(min(full))
    return max(reached)
