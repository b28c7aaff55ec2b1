"""Property-based tests (hypothesis): no input makes the parsers crash."""

from __future__ import annotations

import csv
import importlib
import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendata.errors import OpenDataError
from opendata.package import load_package, schema_problems
from opendata.schema_stream import read_package
from opendata.zh_search import fts_query, in_order_pattern, tokens

FAST = settings(max_examples=300, deadline=None)
FILES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Text that looks like what reports and users type: Han, digits (half and full width), punctuation.
report_text = st.text(alphabet=st.sampled_from(list("行政运行科学技术支出合计万元元年（）()，。：:%.-,0123456789０１２３"
                                                    "ABCabc \t\n\"'*^+-/\\[]{}<>?!~`@#$&|")), max_size=80)
any_text = st.one_of(st.text(max_size=80), report_text)


@FAST
@given(any_text)
def test_tokens_never_crash(text: str) -> None:
    out = tokens(text)
    assert isinstance(out, str)
    assert "  " not in out


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("create virtual table t using fts5(tokens, tokenize='unicode61')")
    for text in ["行政运行", "科学技术管理事务", "一般公共服务支出 2010301", "三公经费 公务接待费"]:
        conn.execute("insert into t (tokens) values (?)", (tokens(text),))
    return conn


@FAST
@given(any_text)
def test_fts_query_is_always_a_valid_match_expression(fts: sqlite3.Connection, query: str) -> None:
    expr = fts_query(query)
    fts.execute("select count(*) from t where t match ?", (expr,)).fetchone()


@FAST
@given(st.text(alphabet=st.sampled_from(list("行政运行科学技术管理事务")), min_size=2, max_size=6))
def test_any_substring_of_indexed_text_is_found(fts: sqlite3.Connection, query: str) -> None:
    texts = ["行政运行", "科学技术管理事务"]
    hits = fts.execute("select count(*) from t where t match ?", (fts_query(query),)).fetchone()[0]
    if any(query in t for t in texts):
        assert hits >= 1


@FAST
@given(any_text, any_text)
def test_an_abbreviation_pattern_is_its_characters_in_order_and_nothing_else(query: str, name: str) -> None:
    # Its LIKE must hold no wildcard of the query's own (% and _ are not Han characters).
    pattern = in_order_pattern(query)
    if pattern is None:
        return
    chars = pattern.strip("%").split("%")
    assert all(len(c) == 1 and "\u3400" <= c for c in chars) and len(chars) >= 3
    conn = sqlite3.connect(":memory:")
    found = conn.execute("select ? like ?", (name, pattern)).fetchone()[0]
    rest = iter(name)
    assert found == all(c in rest for c in chars)


# --- The package reader ----------------------------------------------------------------------

DESCRIPTOR = {
    "name": "p", "resources": [{
        "name": "r", "path": "r.csv", "profile": "tabular-data-resource", "format": "csv", "encoding": "utf-8",
        "schema": {"fields": [
            {"name": "id", "type": "string", "constraints": {"required": True, "pattern": "[a-z0-9-]+"}},
            {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "amount", "type": "number", "bareNumber": False},
            {"name": "value", "type": "number"},
            {"name": "flag", "type": "boolean"},
            {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
        ], "primaryKey": ["id"], "missingValues": [""]},
    }],
}


def _package(data: bytes, encoding: str = "utf-8") -> Path:
    folder = Path(tempfile.mkdtemp(prefix="prop-"))
    desc = json.loads(json.dumps(DESCRIPTOR))
    desc["resources"][0]["encoding"] = encoding
    (folder / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    (folder / "r.csv").write_bytes(data)
    return folder


@FILES
@given(st.lists(st.lists(any_text, min_size=0, max_size=8), max_size=6))
def test_reader_never_crashes_on_any_cells(rows: list[list[str]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["id", "n", "amount", "value", "flag", "kind"], *rows])
    problems = schema_problems(load_package(_package(buf.getvalue().encode())))
    assert all(isinstance(p, str) and "(rule: " in p for p in problems)


@FILES
@given(st.binary(max_size=400), st.sampled_from(["utf-8", "gbk", "latin-1"]))
def test_reader_never_crashes_on_any_bytes(data: bytes, encoding: str) -> None:
    try:
        package = load_package(_package(data, encoding))
    except OpenDataError:  # said, not a crash: UTF-8 text declared latin-1
        return
    log = read_package(package)
    for p in log.items:
        assert p.file == "r.csv" and p.rule


@FILES
@given(st.binary(max_size=300))
def test_descriptor_parser_never_crashes(data: bytes) -> None:
    folder = Path(tempfile.mkdtemp(prefix="prop-"))
    (folder / "datapackage.json").write_bytes(data)
    try:
        load_package(folder)
    except OpenDataError:
        pass


#: JSON values of every kind, small.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "a", "r.csv", "../x", "/etc/passwd",
                                                                       "http://127.0.0.1:9/x", "string", "id"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "type", "fields"]), inner,
                                                                 max_size=3),
    max_leaves=8)
#: What a schema holds, each part of the right or of a wrong kind.
schemas = st.fixed_dictionaries({}, optional={
    "fields": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["id", "x"]) | json_values},
                                             optional={"type": st.sampled_from(["string", "integer", "money"])}),
                       max_size=3) | json_values,
    "primaryKey": st.sampled_from(["id", ["id"], ["nope"]]) | json_values,
    "foreignKeys": st.lists(st.fixed_dictionaries({"fields": st.sampled_from(["id", ["id"]]) | json_values},
                                                  optional={"reference": st.fixed_dictionaries(
                                                      {}, optional={"resource": st.sampled_from(["", "r", "s"]) | json_values,
                                                                    "fields": st.sampled_from(["id", ["id"], ["x"]]) | json_values})}),
                            max_size=2) | json_values,
})
#: Resources with the properties a descriptor may give them, of any value.
resources = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["r", "s", "R!"]) | json_values, "path": st.sampled_from(["r.csv", "../r.csv"]) | json_values,
    "schema": schemas | json_values, "dialect": json_values, "profile": json_values, "encoding": json_values,
    "format": json_values, "data": json_values, "checklist": json_values,
})


@FILES
@given(st.fixed_dictionaries({"resources": st.lists(resources | json_values, max_size=3)},
                             optional={"profile": json_values, "name": json_values, "licenses": json_values}))
def test_any_descriptor_gives_a_package_or_a_clear_error(descriptor: dict) -> None:
    folder = Path(tempfile.mkdtemp(prefix="prop-"))
    (folder / "r.csv").write_text("id\n1\n", encoding="utf-8")
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    try:
        package = load_package(folder)
    except OpenDataError as exc:
        assert str(exc).startswith(str(folder))
        return
    try:
        schema_problems(package)
    except OpenDataError:
        pass


# --- The importer's parsers (written elsewhere; tested through their public functions) ----------

def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not there yet")


@FAST
@given(any_text)
def test_narrative_parser_never_crashes(text: str) -> None:
    narrative = _module("opendata.ingest.narrative")
    try:
        narrative.parse_narrative(text)
    except OpenDataError:
        pass


@FILES
@given(st.one_of(st.binary(max_size=600), st.binary(max_size=400).map(lambda b: b"%PDF-1.4\n" + b)))
def test_pdf_reader_raises_only_clear_errors(data: bytes) -> None:
    pdf_tables = _module("opendata.ingest.pdf_tables")
    path = Path(tempfile.mkdtemp(prefix="prop-")) / "x.pdf"
    path.write_bytes(data)
    try:
        pdf_tables.read_pdf_tables(path, report_id="x", edition=2024)
    except OpenDataError as exc:
        assert "x.pdf" in str(exc)


cell = st.text(alphabet=st.sampled_from(list('ab,"\n\r 行政运行；，“”')), max_size=8)


@FILES
@given(st.lists(st.lists(cell, min_size=2, max_size=2), min_size=1, max_size=40),
       st.floats(min_value=0.01, max_value=0.99), st.sampled_from(["utf-8", "gbk"]),
       st.sampled_from(["\n", "\r\n"]))
def test_split_point_cuts_between_records(tmp_path_factory, rows, share, encoding, terminator):
    """Wherever the cut falls, the records before it and after it are the file's records."""
    from opendata.package import load_package
    from opendata.schema_sql import _open_range, split_point

    folder = tmp_path_factory.mktemp("cut")
    (folder / "data").mkdir()
    rows = [["a", "b"], *rows]
    with open(folder / "data" / "t.csv", "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, lineterminator=terminator).writerows(rows)
    descriptor = {"resources": [{"name": "t", "path": "data/t.csv", "encoding": encoding, "format": "csv",
                                 "schema": {"fields": [{"name": "a", "type": "string"},
                                                       {"name": "b", "type": "string"}]}}]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    cut = split_point(load_package(folder).get_resource("t"), share)
    path = folder / "data" / "t.csv"
    with open(path, encoding=encoding, newline="") as fh:
        expected = list(csv.reader(fh))
    if cut is None:
        return
    enc = "utf-8-sig" if encoding == "utf-8" else "gb18030"
    with _open_range(path, enc, 0, cut) as fh:
        head = list(csv.reader(fh))
    with _open_range(path, enc, cut, None) as fh:
        tail = list(csv.reader(fh))
    assert head and tail and head + tail == expected
