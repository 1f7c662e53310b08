"""The report in a real browser: headless Chromium renders it (screenshot not blank) and the
leaderboard is in its DOM. Skips, saying why, when no Chromium is installed
(Debian: `apt-get install -y chromium`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from optbench.report.html import write_report
from tests.test_compare import write_results

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in (os.environ.get("OPTBENCH_CHROMIUM"), *CANDIDATES):
        if name and (found := shutil.which(name)):
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}"]
    try:
        return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{binary} did not finish within 90 s: {' '.join(args)}")


@pytest.mark.slow  # starts a headless Chromium
def test_the_report_renders_in_headless_chromium(tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium found (install Debian's with `apt-get install -y chromium`, "
                    "or set OPTBENCH_CHROMIUM to a Chrome/Chromium binary)")
    root = write_results(tmp_path / "exp", {("adamw", "wl_a"): [100, 120], ("nadamw", "wl_a"): [90, 140],
                                            ("adamw", "wl_b"): [40, 60], ("nadamw", "wl_b"): [None, 70]})
    page, _ = write_report(root, tmp_path / "report.html")
    url = page.resolve().as_uri()

    shot = tmp_path / "shot.png"  # one browser start: the screenshot, and the DOM on stdout
    proc = chromium(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", "--dump-dom",
                    url)
    assert shot.is_file(), proc.stderr[-2000:]
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"the screenshot has {len(colours)} colours: the page did not render"
    assert (pixels[..., :3] < 0.5).mean() > 0.005  # dark pixels: text and lines, not a white page

    assert proc.returncode == 0 and 'id="leaderboard"' in proc.stdout, proc.stderr[-2000:]
    leaderboard = proc.stdout.split('id="leaderboard"')[1].split("</section>")[0]
    assert "Leaderboard" in leaderboard and "<td>adamw</td>" in leaderboard and "<td>nadamw</td>" in leaderboard
    assert 'src="data:image/svg+xml;base64,' in proc.stdout
