"""JUnit XML for `codeeval gate --junit`: one test case per (task, metric), so that any CI
service shows a regression as a failed test with its reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def gate_junit(report) -> ET.ElementTree:
    cases = report.comparisons
    suite = ET.Element("testsuite", {
        "name": "codeeval gate", "tests": str(len(cases)),
        "failures": str(len(report.regressions)), "errors": "0", "skipped": "0"})
    properties = ET.SubElement(suite, "properties")
    s = report.settings
    for name, value in [("baseline", report.baseline.run_id), ("current", report.current.run_id),
                        ("max_drop", f"{s.max_drop:g}"), ("alpha", f"{s.alpha:g}"),
                        *(("config_drift", d) for d in report.drift)]:
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for c in cases:
        case = ET.SubElement(suite, "testcase", {"classname": f"codeeval.gate.{c.task}",
                                                 "name": c.metric, "time": "0"})
        detail = (f"{c.task} {c.metric}: baseline {c.baseline:.4f}, current {c.current:.4f}, "
                  f"delta {c.delta:+.4f}; {c.reason}"
                  + (f"; problems {c.changed(shown=50)}" if c.changed() else ""))
        if c.verdict == "regression":
            failure = ET.SubElement(case, "failure", {"message": c.reason, "type": "regression"})
            failure.text = detail
        else:
            ET.SubElement(case, "system-out").text = f"{c.verdict}: {detail}"
    root = ET.Element("testsuites", {"name": "codeeval", "tests": str(len(cases)),
                                     "failures": str(len(report.regressions))})
    root.append(suite)
    ET.indent(root)
    return ET.ElementTree(root)
