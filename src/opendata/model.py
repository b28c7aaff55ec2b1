"""The field types opendata's rules, views and site read: a package may add resources and fields,
but a field it shares with the model keeps the model's type (an amount declared "string" made the
rules fail on text, with a TypeError naming nothing); and the names a resource may not take (the
build's own tables: a resource named findings failed the build, one named like a layout table was
silently replaced by it)."""

from __future__ import annotations

from functools import cache
from typing import Any

#: Type of each field of the shipped datapackage/datapackage.json (tests/test_bad_input.py keeps
#: the two the same).
MODEL_TYPES: dict[str, dict[str, str]] = {
    "standard_tables": {"table_no": "integer", "kind": "string", "title_zh": "string", "title_en": "string"},
    "departments": {"department_id": "string", "name": "string", "province": "string", "city": "string",
                    "county": "string", "source_ref": "string"},
    "reports": {"report_id": "string", "department_id": "string", "year": "integer", "kind": "string",
                "title": "string", "unit": "string", "source_file": "string", "source_sha256": "string",
                "source_url": "string", "tables_attached": "boolean", "license": "string", "notes": "string"},
    "report_tables": {"report_id": "string", "table_no": "integer", "status": "string",
                      "title_as_printed": "string", "statement": "string", "source_page": "integer",
                      "source_ref": "string"},
    "classification": {"classification_id": "string", "code": "string", "edition": "string", "scheme": "string",
                       "level": "string", "name": "string", "parent_id": "string", "certainty": "string",
                       "source": "string"},
    "amounts": {"report_id": "string", "table_no": "integer", "side": "string", "line_no": "integer",
                "line_key": "string", "classification_id": "string", "code": "string", "item": "string",
                "measure": "string", "amount": "number", "code_certainty": "string", "explanation": "string",
                "source_kind": "string", "source_page": "integer", "source_ref": "string"},
    "statements": {"report_id": "string", "statement_no": "integer", "section": "string", "topic": "string",
                   "label": "string", "value": "number", "unit": "string", "kind": "string", "period": "string",
                   "table_no": "integer", "line_key": "string", "measure": "string", "sentence": "string",
                   "source_page": "integer", "source_ref": "string", "qualifier": "string"},
    "projects": {"report_id": "string", "project_no": "integer", "name": "string", "amount": "number",
                 "in_initial_budget": "boolean", "source_page": "integer", "source_ref": "string"},
    "report_units": {"report_id": "string", "unit_no": "integer", "kind": "string", "name": "string",
                     "note": "string", "source_page": "integer", "source_ref": "string"},
}

#: The types a field of the model's type may be declared with instead (read to the same values).
_ALSO = {"number": {"integer"}, "integer": {"year"}}


def model_problems(resource: dict[str, Any]) -> list[str]:
    """A line for each field of ``resource`` (a descriptor) declared with a type other than the
    model's, and one for the model's fields it lacks (the build failed on one in a view or site
    table, after ``validate`` had passed the package) (rule: opendata-model)."""
    name = resource.get("name")
    model = MODEL_TYPES.get(name) if isinstance(name, str) else None
    schema = resource.get("schema")
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if model is None or not isinstance(fields, list):
        return []
    problems = []
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) or field["name"] not in model:
            continue
        want, got = model[field["name"]], field.get("type", "string")
        if isinstance(got, str) and got != want and got not in _ALSO.get(want, ()):
            problems.append(f"resource {name}: field {field['name']} is declared \"{got}\"; "
                            f"opendata's rules and site read it as \"{want}\" (rule: opendata-model)")
    have = {f.get("name") for f in fields if isinstance(f, dict)}
    if missing := [f for f in model if f not in have]:
        problems.append(f"resource {name}: has no field {', '.join(missing)}, which opendata's accounting rules, "
                        "views and site read: add the column (empty cells where the source says nothing) "
                        "(rule: opendata-model; see the shipped datapackage/datapackage.json)")
    return problems


#: Tables every build writes (a database without them is not one opendata built).
BUILD_TABLES = frozenset({"reports", "findings"})
#: What a database without BUILD_TABLES is (build refuses to replace it, serve to serve it).
NOT_BUILT = "a SQLite database that opendata did not build (it lacks the tables reports and findings)"

#: Tables the build writes beside the resources' (besides the layouts', ``layouts.layout_queries``):
#: a resource of one of these names was lost or failed the build with SQLite's words.
_WRITTEN_TABLES = frozenset({"findings", "rules", "search_index", "search_texts", "implied_last_year"})
#: Prefixes of the names the build and SQLite keep for themselves.
_RESERVED_PREFIXES = ("_", "sqlite_", "search_texts_")


@cache
def reserved_names() -> frozenset[str]:
    """The table and view names a build writes itself (so no resource may take them)."""
    from .layouts import layout_queries  # the layouts name their views

    return _WRITTEN_TABLES | {name for name, _ in layout_queries()}


def reserved_name_problem(name: Any) -> str | None:
    """Why a resource may not be called ``name`` (rule: reserved-name), or None."""
    if not isinstance(name, str):
        return None
    if name in reserved_names() or name.startswith(_RESERVED_PREFIXES):
        return (f"resource {name}: the build writes a table or view of that name itself (its findings, rules, "
                "search index, the standard tables' layouts); give the resource another name (rule: reserved-name)")
    return None
