"""The report's analyses in a real browser: headless Chromium loads the page of a hand-made results
folder that has every analysis (tuning-cost curve, both clocks' leaderboards with rank changes,
the p-values, the hyperparameter scatter, a sweep's heat map), and a script run in the page
(added to a copy of it: the report itself has no script) checks that each section and table is
there and visible and that every figure decoded with a nonzero natural size. The script then
hides the rest of the page, and the screenshot of the analyses goes to the test's tmp folder
(analyses.png). Skips, saying why, without Chromium."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from optbench import store
from optbench.report.html import write_report
from optbench.tools import sweep as sw
from tests import hand_results
from tests.test_report_browser import chromium, find_chromium

#: Runs in the page once everything has loaded; writes its findings into <pre id="checks">.
CHECKS = """<script>
window.addEventListener("load", () => {
  const visible = (el) => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"; };
  const out = {sections: {}, images: [], tables: {}};
  for (const id of ["analyses", "tuning-curve", "clocks", "significance", "hparam-scatter", "sweep"]) {
    const el = document.getElementById(id);
    out.sections[id] = el ? {visible: visible(el), text: el.textContent.slice(0, 200)} : null;
  }
  for (const img of document.querySelectorAll("#analyses img")) {
    out.images.push({alt: img.alt, cls: img.className, complete: img.complete, width: img.naturalWidth,
                     height: img.naturalHeight, visible: visible(img)});
  }
  const tables = [...document.querySelectorAll("#analyses table")];
  out.tables = tables.map((t) => ({visible: visible(t), rows: t.querySelectorAll("tbody tr").length,
                                   text: t.textContent.replace(/\\s+/g, " ").slice(0, 400)}));
  // then only the analyses stay on screen, for the screenshot
  const analyses = document.getElementById("analyses");
  for (let el = analyses; el && el !== document.body; el = el.parentElement) {
    for (const sibling of el.parentElement.children) { if (sibling !== el) sibling.style.display = "none"; }
  }
  out.height = Math.ceil(analyses.getBoundingClientRect().height);
  const pre = document.createElement("pre");
  pre.id = "checks";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def everything(root):
    """A sweep-shaped external-tuning run of two submissions, 3 studies, a 3 x 2 grid of
    learning_rate x weight_decay per study: 'fast' reaches the target in few seconds but many
    steps, 'frugal' in few steps but more seconds (the clocks disagree); for both the time falls
    with the learning rate, and the smallest one misses."""
    axes = sw.parse_grid("learning_rate=1e-3:1e-1:3,weight_decay=1e-4:1e-2:2")
    store.atomic_write_json(root / sw.SWEEP_FILE, {"axes": [{"name": a.name, "values": list(a.values)} for a in axes]})
    trials = {}
    for study in range(3):
        for trial, point in enumerate(sw.grid_points(axes)):
            lr = point["learning_rate"]
            scale = 1 + 0.1 * study + 0.2 * -math.log10(lr)
            if lr < 5e-3:
                trials[("fast", "w1", study, trial)] = (None, None, 0.6, point)
                trials[("frugal", "w1", study, trial)] = (None, None, 0.55, point)
            else:
                trials[("fast", "w1", study, trial)] = (10.0 * scale, int(900 * scale), 0.93 + 0.01 * study, point)
                trials[("frugal", "w1", study, trial)] = (30.0 * scale, int(300 * scale), 0.92, point)
    return hand_results.write(root, trials)


@pytest.mark.slow
def test_the_analyses_render_in_headless_chromium(tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium found (install Debian's with `apt-get install -y chromium`, "
                    "or set OPTBENCH_CHROMIUM to a Chrome/Chromium binary)")
    page, data = write_report(everything(tmp_path / "exp"), tmp_path / "report.html")
    assert data.sweep is not None and data.importance and data.board is not None
    checked = tmp_path / "checked.html"
    checked.write_text(page.read_text().replace("</body>", CHECKS + "</body>"))

    shot = tmp_path / "analyses.png"  # one browser start: the screenshot at #analyses, and the DOM
    proc = chromium(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000",
                    "--virtual-time-budget=10000", "--dump-dom", checked.resolve().as_uri())
    assert proc.returncode == 0 and 'id="checks"' in proc.stdout, proc.stderr[-2000:]
    found = json.loads(proc.stdout.split('<pre id="checks">')[1].split("</pre>")[0].replace("&amp;", "&")
                       .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"'))

    print("analyses height", found["height"])
    for section, shown in found["sections"].items():
        assert shown is not None and shown["visible"], section
    assert "2 of 2 submission(s) change rank" in found["sections"]["clocks"]["text"]
    assert "good region" in found["sections"]["sweep"]["text"]
    # tuning curve, both clocks' profiles, one scatter (one workload), the heat map: each decoded
    images = found["images"]
    assert [i["cls"] for i in images] == ["", "", "scatter", "heatmap"]
    for image in images:
        assert image["complete"] and image["visible"] and image["width"] > 100 and image["height"] > 100, image
    tables = found["tables"]
    assert all(t["visible"] and t["rows"] > 0 for t in tables)
    clocks = next(t for t in tables if "# steps" in t["text"])  # both leaderboards, with the change
    assert "▲1" in clocks["text"] and "▼1" in clocks["text"]
    pairs = next(t for t in tables if "won/lost/tied" in t["text"])  # the p-values
    assert "fast" in pairs["text"] and "frugal" in pairs["text"]

    import matplotlib.image as mpimg

    assert shot.is_file(), proc.stderr[-2000:]
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (4000, 1280)
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"the screenshot has {len(colours)} colours: the page did not render"
    assert (pixels[..., :3] < 0.5).mean() > 0.005
