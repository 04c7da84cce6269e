"""Gate and leaderboard on real run stores: the reference solutions, a copy of them with 10%
of HumanEval Pro broken, and perturbed samples (wrong answers, crashes, timeouts) with five
samples per problem. The leaderboard is then driven in a real headless browser: Debian's
chromium and chromedriver (.ci/run installs them), no downloaded browser build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from codeeval.records import read_jsonl
from conftest import REPO, codeeval_cmd
from perturb import perturbed_samples

HE, MBPP = "humaneval-pro", "mbpp-pro"
LIMIT = 80
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# the browser test's screenshots, kept for people to look at (CI leaves them in the clone)
ARTIFACTS = Path(os.environ.get("CODEEVAL_TEST_ARTIFACTS", REPO / "test-artifacts"))


def cli(*args, check=True):
    proc = subprocess.run(codeeval_cmd(*map(str, args)), capture_output=True, text=True,
                          timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def broken_copy(samples: Path, out: Path) -> Path:
    """The stored samples, with every tenth HumanEval Pro problem made to fail."""
    rows = read_jsonl(samples)
    for row in rows:
        if row["task"] == HE and int(row["task_id"]) % 10 == 0:
            row["completion"] += "\nraise AssertionError('broken on purpose')\n"
    out.write_text("".join(json.dumps({k: row[k] for k in ("task", "task_id", "completion")})
                           + "\n" for row in rows))
    return out


@pytest.fixture(scope="module")
def stores(benchmarks, tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    data = ("--data-dir", benchmarks)
    ref = root / "reference"
    cli("run", "--model", "reference", "--tasks", f"{HE},{MBPP}", "--limit", LIMIT,
        "--out", ref, *data)
    broken = root / "broken"
    cli("evaluate", "--tasks", f"{HE},{MBPP}", "--samples",
        broken_copy(ref / "samples.jsonl", root / "broken.jsonl"), "--out", broken, *data)
    perturbed = root / "perturbed"
    cli("evaluate", "--tasks", HE, "--timeout", "2", "--out", perturbed, *data, "--samples",
        perturbed_samples(ref / "samples.jsonl", HE, 30, root / "perturbed.jsonl"))
    return {"reference": ref, "broken": broken, "perturbed": perturbed, "root": root}


def test_gate_of_a_run_against_itself_passes(stores):
    ref = stores["reference"]
    committed = stores["root"] / "baseline.json"
    shutil.copy(ref / "summary.json", committed)
    for baseline in (ref, committed):
        proc = cli("gate", ref, "--baseline", baseline)
        assert proc.stdout.splitlines()[-1] == "gate: pass (2 compared, 0 improved)"


def test_gate_fails_on_ten_percent_broken_and_names_the_task(stores):
    root = stores["root"]
    junit, markdown = root / "gate.xml", root / "gate.md"
    proc = cli("gate", stores["broken"], "--baseline", stores["reference"] / "summary.json",
               "--junit", junit, "--markdown", markdown, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    verdict = proc.stdout.splitlines()[-1]
    assert verdict.startswith("gate: FAIL, 1 regression(s): humaneval-pro pass@1")
    assert MBPP not in verdict
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {c.get("classname"): c for c in suite.iter("testcase")}
    assert set(cases) == {f"codeeval.gate.{HE}", f"codeeval.gate.{MBPP}"}
    assert cases[f"codeeval.gate.{HE}"].find("failure") is not None
    assert cases[f"codeeval.gate.{MBPP}"].find("failure") is None
    row = next(line for line in markdown.read_text().splitlines()
               if line.startswith(f"| {HE} | pass@1 | {LIMIT} |"))
    assert "| -0.100 |" in row and "regression" in row


@pytest.fixture(scope="module")
def leaderboard(stores, benchmarks):
    out = stores["root"] / "leaderboard.html"
    trial = stores["root"] / "trial"     # the reference again, a 10-problem trial: same row
    cli("run", "--model", "reference", "--tasks", HE, "--limit", 10, "--out", trial,
        "--data-dir", benchmarks)
    # perturbed first, so that sorting by score visibly reorders the rows
    proc = cli("report", stores["perturbed"], stores["reference"], trial, "-o", out)
    print(proc.stdout)
    return out


def test_report_over_real_runs_renders(leaderboard):
    html = leaderboard.read_text()
    assert "samples:perturbed.jsonl" in html and ">reference<" in html
    assert 'id="task-humaneval-pro"' in html and 'id="task-mbpp-pro"' in html
    for status in ("timeout", "error", "failed"):
        assert f'class="status {status}"' in html
    assert "SyntaxError" in html and "AssertionError" in html and "<polyline" in html


def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver; .ci/run does this)")
    os.environ["SE_OFFLINE"] = "true"          # never let selenium-manager download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1600", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND"):   # file:// only, no DNS at all
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))


def test_leaderboard_in_a_headless_browser(leaderboard, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    driver = browser()
    try:
        driver.get(leaderboard.as_uri())
        table = driver.find_element(By.ID, "main-table")

        def models():
            return [row.find_element(By.TAG_NAME, "th").text.splitlines()[0]
                    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

        # the reference's trial run merged into its row, its full run shown
        assert models() == ["samples:perturbed.jsonl", "reference"]
        assert "2 models from 3 runs" in driver.find_element(By.CLASS_NAME, "meta").text
        headers = table.find_elements(By.CSS_SELECTOR, "thead th")
        he_header = next(h for h in headers if h.text.startswith(HE))
        he_header.click()                                    # best first
        assert models() == ["reference", "samples:perturbed.jsonl"]
        assert he_header.get_attribute("aria-sort") == "descending"
        he_header.click()
        assert models() == ["samples:perturbed.jsonl", "reference"]

        section = driver.find_element(By.ID, f"task-{HE}")
        problem = section.find_element(By.CSS_SELECTOR, 'details.problem[data-failing="1"]')
        code = problem.find_element(By.CSS_SELECTOR, ".sample pre code")
        assert not code.is_displayed()
        problem.find_element(By.TAG_NAME, "summary").click()
        assert problem.get_attribute("open") is not None and code.is_displayed()
        assert "def " in code.text or "return" in code.text

        search = section.find_element(By.CLASS_NAME, "problem-filter")
        search.send_keys("13")
        visible = [p.get_attribute("data-problem-id") for p in
                   section.find_elements(By.CSS_SELECTOR, "details.problem") if p.is_displayed()]
        assert visible == ["13"]
        assert section.find_element(By.CLASS_NAME, "shown").text == f"1 of {LIMIT} problems"
        search.send_keys(Keys.BACKSPACE * 2)
        assert section.find_element(By.CLASS_NAME, "shown").text == f"{LIMIT} of {LIMIT} problems"

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name, width in (("desktop", 1400), ("narrow", 500)):   # headless Chrome's narrowest
            driver.set_window_size(width, 1600)
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(width, min(height, 4000))
            # wide tables scroll in their own box: the page itself never scrolls sideways
            assert driver.execute_script("return document.documentElement.scrollWidth "
                                         "<= window.innerWidth"), name
            shot = ARTIFACTS / f"leaderboard-{name}.png"
            assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()
