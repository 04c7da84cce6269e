"""The HTML leaderboard over synthetic run stores: what each section shows, and that it
stays readable when a benchmark, a breakdown or the per-sample results are missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

from codeeval.generation import GenerationConfig
from codeeval.reports.leaderboard import flatten, render
from codeeval.rundata import find_runs
from conftest import codeeval_cmd
from runstores import outcomes, write_store

HE, MBPP = "humaneval-pro", "mbpp-pro"
LEVELS = {str(i): {"level": "easy" if i < 6 else "hard"} for i in range(10)}


class Collect(HTMLParser):
    """Element counts and every URL the page would fetch (none: data: URLs aside)."""

    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.urls += [v for k, v in attrs if k in ("src", "href") and v
                      and re.match(r"[a-z]+:", v) and not v.startswith("data:")]


def parse(html: str) -> Collect:
    parser = Collect()
    parser.feed(html)
    return parser


def two_runs(tmp_path):
    sampled = {str(i): ["passed"] * (i % 4) + ["failed"] * (4 - i % 4) for i in range(10)}
    a = write_store(tmp_path / "runs" / "a", {HE: sampled, MBPP: outcomes(3, 2)}, model="alpha",
                    generation=GenerationConfig(n_samples=4, temperature=0.8), meta=LEVELS,
                    trace=[{"block": 1, "locals": {"x": 3}}])
    b = write_store(tmp_path / "runs" / "b", {HE: outcomes(7, 3)}, model="beta")
    return a, b


def test_sections_show_scores_intervals_breakdowns_curves_and_failures(tmp_path):
    a, b = two_runs(tmp_path)
    html = render(find_runs([a, b]))
    parsed = parse(html)
    assert parsed.urls == [] and "<script src" not in html          # nothing to fetch
    # main table: one row per run, the absent benchmark an empty, sortable-last cell
    main = html.split('id="main-table"')[1].split("</table>")[0]
    assert main.count("<tr") == 3 and main.count('class="absent"') == 1
    assert re.search(r'data-value="0\.7"><span class="score">0\.700</span>', main)
    assert "95% CI [" in main and "40 samples · 10 problems" in main
    assert 'title="run id: a-run' in main                     # provenance on hover
    assert "temperature=0.8" in html and "sha256 aaaaaaaaaaaa" in html
    # per benchmark: the level breakdown only run a has, the pass@k curve of the sampled run
    he = section(html, HE)
    assert "<h4>level</h4>" in he and ">easy</th>" in he and "<h4>status</h4>" in he
    assert he.count("<polyline") == 2 and "alpha: pass@4 = 0.700" in he
    assert "pass@k curve needs more" in section(html, MBPP)
    # drill-down: every problem, failing code and outputs, the stored trace
    assert he.count('class="problem"') == 10
    assert 'data-problem-id="0" data-failing="1"' in he
    assert "    return 2  # humaneval-pro 0" in he and "AssertionError: expected 3" in he
    assert "debugging trace" in he and "&#34;locals&#34;" in he
    assert "… and 1 more failing sample" in he               # 4 failing, 3 shown
    assert '<p class="reason">cause: failed: ' in he         # the summary's cause


def section(html: str, task: str) -> str:
    return html.split(f'<section id="task-{task}"')[1].split("</section>")[0]


def test_a_summary_alone_renders_without_drill_down_details(tmp_path):
    a, b = two_runs(tmp_path)
    alone = tmp_path / "baseline.json"
    shutil.copy(b / "summary.json", alone)
    html = render(find_runs([alone]))
    assert "summary only (no results.jsonl)" in html
    assert section(html, HE).count('class="problem"') == 10      # verdicts from per_problem
    assert "No breakdowns" not in html and "<h4>status</h4>" in html


def test_one_row_per_model_and_configuration(tmp_path):
    """Runs of one model and config merge into one row (each benchmark from the run covering
    it best, the others named); the same model under another config is its own, labelled row."""
    import json
    a, b = two_runs(tmp_path)
    trial = tmp_path / "runs" / "c"               # beta again: a 4-problem trial run
    write_store(trial, {HE: outcomes(4, 0), MBPP: outcomes(2, 2)}, model="beta")
    summary = json.loads((trial / "summary.json").read_text())
    summary["config"]["limit"] = 4
    (trial / "summary.json").write_text(json.dumps(summary))
    write_store(tmp_path / "runs" / "d", {HE: outcomes(2, 8)}, model="beta",
                generation=GenerationConfig(temperature=0.8))
    html = render(find_runs([tmp_path / "runs"]))
    assert "3 models from 4 runs" in html
    main = html.split('id="main-table"')[1].split("</table>")[0]
    rows = re.findall(r'<th scope="row" data-value="([^"]+)"', main)
    assert rows == ["alpha", "beta (temperature=0.0)", "beta (temperature=0.8)"]
    beta = main.split('data-value="beta (temperature=0.0)"')[1].split("</tr>")[0]
    # humaneval-pro from the full run b (0.7 over 10 problems), mbpp-pro from the trial only
    assert '<span class="score">0.700</span>' in beta and "10 problems" in beta
    assert beta.count("partial: first 4 problems (--limit 4)") == 1
    assert "also run in c-run" in section(html, HE)
    assert "b-run: humaneval-pro; c-run: mbpp-pro" in html        # the entry's runs
    # per-problem: how many models solve each problem
    he = section(html, HE)
    assert "Across the 3 models that ran it: 1 of 10 problems solved by none, 1 by all 3" in he
    assert ">solved by<" in he
    mbpp_head = section(html, MBPP).split('class="problem-head"')[1].split("</div>")[0]
    assert mbpp_head.count('class="swatch"') == 2     # only the models that ran it
    assert re.search(r'data-problem-id="9"[^>]*>\s*<summary><span class="pid">9</span>'
                     r'<span class="solved" data-rate="[^"]+">1 of 3</span>', he)


def test_breakdowns_of_any_shape_flatten_to_rows():
    assert flatten({"raw": {"passed": 3, "failed": 1}}) == {"raw": {"passed": 3, "failed": 1}}
    assert flatten({"class": {"pass@1": 0.5}, "method": {"pass@1": 0.7, "n": 9}}) == {
        "class": {"pass@1": 0.5}, "method": {"pass@1": 0.7, "n": 9}}
    assert flatten({"java": {"compile": {"rate": 0.9}}, "total": 4}) == {
        "all": {"total": 4}, "java / compile": {"rate": 0.9}}
    assert flatten({"numpy": ["1", "2"]}) == {"all": {"numpy": 2}}


def test_cli_writes_the_file_and_rejects_what_is_not_a_run(tmp_path):
    a, b = two_runs(tmp_path)
    out = tmp_path / "lb.html"
    proc = subprocess.run(codeeval_cmd("report", str(a), str(b), "-o", str(out)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("<!doctype html>") and "leaderboard:" in proc.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run(codeeval_cmd("report", str(empty), "-o", str(out)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "no run store here" in proc.stderr


def test_rendering_is_reproducible(tmp_path):
    a, b = two_runs(tmp_path)

    def page():
        return re.sub(r"generated \S+", "", render(find_runs([a, b])))

    assert page() == page()


def test_partial_runs_are_marked_and_the_table_downloads_as_json_and_csv(tmp_path):
    import json
    from urllib.parse import unquote
    a, b = two_runs(tmp_path)
    config = json.loads((b / "summary.json").read_text())
    config["config"]["limit"] = 10
    (b / "summary.json").write_text(json.dumps(config))
    html = render(find_runs([a, b]))
    assert html.count("partial: first 10 problems (--limit 10)") == 1
    links = dict(re.findall(r'download="leaderboard\.(json|csv)" href="data:[^,]+,([^"]+)"',
                            html))
    table = json.loads(unquote(links["json"]))
    assert [(r["model"], r["task"], r["metric"], r["partial"]) for r in table] == [
        ("alpha", HE, "pass@1", None), ("alpha", MBPP, "pass@1", None),
        ("beta", HE, "pass@1", "first 10 problems (--limit 10)")]
    assert table[2]["value"] == 0.7 and table[2]["n_problems"] == 10
    csv_lines = unquote(links["csv"]).splitlines()
    assert csv_lines[0].startswith("model,run_id,task,metric,value") and len(csv_lines) == 4
