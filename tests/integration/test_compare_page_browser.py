"""Shepherd's pages in a real browser (Debian's chromium, headless): the dashboard, and the
old-vs-new page whose charts draw."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from shepherd.domain.watch import Verdict
from shepherd.entrypoints.web.app import create_app
from tests.support import live_server, need
from tests.support.verdicts import set_verdict, start
from tests.support.world import World

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
    "--window-size=1200,900",
]


def chromium(*args: str, profile: Path) -> str:
    binary = shutil.which("chromium")
    need(binary, "Debian's chromium (apt-get install chromium)")
    assert binary is not None
    result = subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_compare_page_draws_a_chart_per_check(world: World, tmp_path: Path) -> None:
    deploy_id = start(world)
    set_verdict(world, deploy_id, Verdict.FAIL)
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        page = f"{url}/deploys/{deploy_id}/compare"
        dom = chromium("--dump-dom", page, profile=tmp_path / "profile")
        chromium(f"--screenshot={tmp_path / 'compare.png'}", page, profile=tmp_path / "profile2")
    assert 'data-ready="true"' in dom, dom[-3000:]
    assert dom.count("<canvas") == 1  # one check, one chart
    assert "error ratio — FAIL" in dom and "error ratio 0.4% → 3.1% (×7.8)" in dom
    assert "fail — verdict is fail" in dom
    assert (tmp_path / "compare.png").stat().st_size > 10_000


def test_dashboard_shows_a_deploy_its_verdict_and_the_way_to_its_charts(world: World, tmp_path: Path) -> None:
    deploy_id = start(world)
    set_verdict(world, deploy_id, Verdict.FAIL)
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        dom = chromium("--dump-dom", f"{url}/", profile=tmp_path / "profile")
    assert "Shepherd: recent deploys" in dom
    assert f'href="/deploys/{deploy_id}"' in dom and f'href="/deploys/{deploy_id}/compare"' in dom
    assert '<span class="verdict fail"' in dom
