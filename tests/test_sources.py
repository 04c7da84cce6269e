"""Data loading: local files with clear errors, and the hub path through `datasets`."""

from __future__ import annotations

import json

import pytest

from codeeval.errors import UserError
from codeeval.tasks import get_task
from codeeval.tasks.sources import DataSource


def local(tmp_path, content: str | None) -> DataSource:
    folder = tmp_path / "humaneval-pro"
    folder.mkdir()
    if content is not None:
        (folder / "humaneval_pro.json").write_text(content)
    return DataSource(tmp_path)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(UserError, match=r"humaneval-pro/humaneval_pro.json not found"):
        get_task("humaneval-pro").load(local(tmp_path, None))


def test_invalid_json_says_what_was_expected(tmp_path):
    with pytest.raises(UserError, match=r"is not valid JSON .*expected a JSON array"):
        get_task("humaneval-pro").load(local(tmp_path, "[{\"id\": 0,"))


def test_wrong_shape(tmp_path):
    with pytest.raises(UserError, match=r"holds a JSON dict; expected a JSON array"):
        get_task("humaneval-pro").load(local(tmp_path, "{}"))


def test_row_missing_a_field_is_named(tmp_path):
    row = {"id": 0, "raw_problem": "", "raw_solution": "", "new_problem": "", "new_solution": ""}
    with pytest.raises(UserError, match=r"row 0 lacks test_code"):
        get_task("humaneval-pro").load(local(tmp_path, json.dumps([row])))


def test_data_dir_must_exist(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        DataSource.from_option(str(tmp_path / "nope"))


def test_local_load_records_the_file_hash(benchmarks):
    source = DataSource(benchmarks)
    get_task("mbpp-pro").load(source)
    assert list(source.loaded) == ["humaneval-pro/mbpp_pro.json"]
    assert len(source.loaded["humaneval-pro/mbpp_pro.json"]) == 64


def test_hub_path_uses_the_official_dataset_id(benchmarks, monkeypatch):
    """No hub here: the official id is served from the local file by `datasets` itself."""
    import datasets

    calls = []
    real_load = datasets.load_dataset

    def load_dataset(path, split=None, **kwargs):
        calls.append((path, split))
        local_file = str(benchmarks / "humaneval-pro" / "humaneval_pro.json")
        return real_load("json", data_files=local_file, split=split)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    problems = get_task("humaneval-pro").load(DataSource(None))
    assert calls == [("CodeEval-Pro/humaneval-pro", "train")]
    assert len(problems) == 164 and problems[0].task_id == "0"


def test_hub_failure_is_one_actionable_line(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'CodeEval-Pro/humaneval-pro' on the Hub\nmore")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(UserError) as err:
        get_task("humaneval-pro").load(DataSource(None))
    assert "\n" not in str(err.value) and "--data-dir" in str(err.value)


def test_json_lines_files_plain_and_gzipped(tmp_path):
    import gzip
    folder = tmp_path / "bench"
    folder.mkdir()
    lines = '{"id": 1, "x": "a"}\n\n{"id": 2, "x": "b"}\n'
    (folder / "data.jsonl").write_text(lines)
    (folder / "data.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    source = DataSource(tmp_path)
    for name in ("data.jsonl", "data.jsonl.gz"):
        rows = source.json_rows("bench", name, "hub/id", "train", ("id", "x"))
        assert [r["id"] for r in rows] == [1, 2]
    assert set(source.loaded) == {"bench/data.jsonl", "bench/data.jsonl.gz"}


def test_a_bad_json_line_is_named_by_its_number(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "data.jsonl").write_text('{"id": 1}\n{"id": \n')
    with pytest.raises(UserError, match=r"data.jsonl, line 2: not valid JSON"):
        DataSource(tmp_path).json_rows("bench", "data.jsonl", "hub/id", "train", ("id",))


def test_a_corrupt_gzip_file_is_one_line(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "data.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(UserError, match="not valid gzip"):
        DataSource(tmp_path).json_rows("bench", "data.jsonl.gz", "hub/id", "train", ("id",))
