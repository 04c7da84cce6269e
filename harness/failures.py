"""Why a program failed, in a few words: the cause a reader acts on (missing nltk data, no
network, a missing module, a timeout), else the failing test's last line.

Works on stored result rows, so a summary can name the cause of every failure without
re-running anything.
"""

from __future__ import annotations

import re

NLTK_RESOURCE = re.compile(r"Resource\s+(?:\x1b\[[0-9;]*m)?([\w./-]+)(?:\x1b\[[0-9;]*m)?\s+not found")
NETWORK = ("Name or service not known", "Temporary failure in name resolution",
           "Network is unreachable", "No address associated with hostname",
           "NameResolutionError", "nodename nor servname provided")
MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")


def row_text(row: dict) -> str:
    parts = [row.get("message", "")]
    parts += [t.get("message", "") for t in row.get("tests", [])]
    parts.append(row.get("stderr", ""))
    return "\n".join(p for p in parts if p)


def failure_reason(row: dict, known: dict[str, str] | None = None) -> str:
    """One line naming the cause of a failed row; `known` maps task ids to causes that were
    established by hand (library-version behaviour, say), used when the row failed."""
    if row.get("status") == "passed":
        return ""
    if row.get("status") == "tampered":   # never hidden behind a known cause
        return row.get("message", "tampered with the test harness")[:300]
    if known and row.get("task_id") in known:
        return known[row["task_id"]]
    if row.get("status") == "timeout":
        return "timeout: the wall-clock limit was reached"
    if row.get("status") == "infra_error":
        return "sandbox infrastructure error (counted as a failure; rerun to retry)"
    text = row_text(row)
    resources = sorted(set(NLTK_RESOURCE.findall(text)))
    if resources:
        return f"nltk data missing: {', '.join(resources)}"
    if "MissingCorpusError" in text:
        return "nltk data missing: TextBlob's corpora"
    if any(marker in text for marker in NETWORK):
        return "network needed: name resolution failed (the sandbox has no network)"
    missing = MISSING_MODULE.search(text)
    if missing:
        return f"missing module: {missing.group(1)}"
    line = row.get("message", "") or "no message"
    return f"{row.get('status', 'failed')}: {line}"[:300]
