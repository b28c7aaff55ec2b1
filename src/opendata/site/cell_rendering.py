"""A table page's cells: what Datasette's ``display_columns_and_rows`` answers, written faster.

For each of a page's cells (750 on a 50-row page of amounts) Datasette asks the plugins for a
rendering through pluggy (``pm.hook.render_cell``: argument checks, a copy of the list of
implementations, a generic call loop: ~1.3 ms a page), and for each row's link it tilde-encodes
the primary key's values byte by byte, twice (~0.9 ms). ``display_columns_and_rows`` here is the
same function, the same code (``rebound``), reading ``pm.hook.render_cell`` as a caller that calls
the implementations itself, in pluggy's order and with pluggy's result (every answer that is not
None), and ``tilde_encode`` memoized (a pure function of a string; the values of keys repeat from
row to row). A hook wrapper among the implementations (none in this site) sends the call through
pluggy as before.

``display_cells``, which the pages call, writes the cells of a row in one loop where that is sure
to give what Datasette's function gives (the site's ``render_cell`` is the only one: each column's
renderer chosen once, ``cell_values.cell_renderer``): 2.4 -> 0.7 ms for 50 rows of amounts. Any
other case, a row with a cell it does not write (a URL, bytes) or a table with units, goes to
``display_columns_and_rows``.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import datasette.utils
import datasette.views.row
import datasette.views.table
from datasette.plugins import pm
from markupsafe import Markup, escape

from . import cell_values
from .plugin import render_cell as _SITE_RENDER_CELL
from .rebound import rebound

#: Datasette's own function, as it is (the tests render pages with it to compare).
DATASETTE_DISPLAY = datasette.views.table.display_columns_and_rows

#: Distinct strings whose tilde encoding is kept (key values, table names: ~100 bytes each).
TILDE_CACHE_SIZE = 20_000

tilde_encode = functools.lru_cache(maxsize=TILDE_CACHE_SIZE)(datasette.utils.tilde_encode)


class DirectHookCaller:
    """Calls a pluggy hook's implementations as pluggy's ``_multicall`` does for a hook without
    ``firstresult``: last registered first, each given the arguments it names, and returns every
    answer that is not None, in that order. With a wrapper among them, the call goes through pluggy."""

    def __init__(self, caller: Any) -> None:
        self._caller = caller
        self._impls: list[Any] | None = None
        self._plan: list[tuple[Any, tuple[str, ...]]] | None = None

    def __call__(self, **kwargs: Any) -> list[Any]:
        impls = self._caller.get_hookimpls()
        if impls != self._impls:  # a plugin registered or removed since the last call
            self._plan = None if any(impl.hookwrapper or impl.wrapper for impl in impls) else [
                (impl.function, tuple(impl.argnames)) for impl in reversed(impls)]
            self._impls = impls
        if self._plan is None:
            return self._caller(**kwargs)
        results = []
        for function, names in self._plan:
            answer = function(*[kwargs[name] for name in names])
            if answer is not None:
                results.append(answer)
        return results


_path_from_row_pks = rebound(datasette.utils.path_from_row_pks, tilde_encode=tilde_encode)

#: ``display_columns_and_rows`` with the hook caller and the memoized encoding; None when this
#: Datasette's function does not read those names (it is then kept as it is).
display_columns_and_rows = rebound(
    DATASETTE_DISPLAY,
    pm=SimpleNamespace(hook=SimpleNamespace(render_cell=DirectHookCaller(pm.hook.render_cell))),
    tilde_encode=tilde_encode,
    path_from_row_pks=_path_from_row_pks,
) if _path_from_row_pks and "render_cell" in DATASETTE_DISPLAY.__code__.co_names else None


#: What Datasette writes for an empty cell, and the names its table page's cells use.
_EMPTY = Markup("&nbsp;")
_Row = datasette.views.table.Row
_CustomRow = datasette.utils.CustomRow
_LINK_WITH_LABEL = datasette.views.table.LINK_WITH_LABEL
_LINK_WITH_VALUE = datasette.views.table.LINK_WITH_VALUE


async def display_cells(datasette: Any, database_name: str, table_name: str, description: Any, rows: Any,
                        link_column: bool = False, truncate_cells: int = 0,
                        sortable_columns: Any = None) -> tuple[list[dict], list[Any]]:
    """``display_columns_and_rows`` as Datasette's answers it, its cells written here when the only
    ``render_cell`` is this site's (``cell_values.cell_renderer``, chosen once per column instead of
    a hook call per cell) and the table has no units: the columns (the headers) are Datasette's
    function's, given no rows; a cell holding what this loop does not write as Datasette does (a
    URL, bytes, another type) has its whole row written by Datasette's function."""
    display = display_columns_and_rows
    hooks = pm.hook.render_cell.get_hookimpls()
    if (len(hooks) != 1 or hooks[0].function is not _SITE_RENDER_CELL
            or datasette.table_metadata(database_name, table_name).get("units")):
        return await display(datasette, database_name, table_name, description, rows, link_column=link_column,
                             truncate_cells=truncate_cells, sortable_columns=sortable_columns)
    columns, _ = await display(datasette, database_name, table_name, description, [], link_column=link_column,
                               truncate_cells=truncate_cells, sortable_columns=sortable_columns)
    db = datasette.databases[database_name]
    pks = await db.primary_keys(table_name)
    foreign = {fk["column"]: fk["other_table"] for fk in await db.foreign_keys_for_table(table_name)}
    base_url = datasette.setting("base_url")
    table_path = str(datasette.urls.table(database_name, table_name))
    link_name = pks[0] if len(pks) == 1 else "Link"
    skip = pks[0] if link_column and len(pks) == 1 else None
    names = [d[0] for d in description]
    plan = [(i, name, cell_values.cell_renderer(table_name, name)) for i, name in enumerate(names) if name != skip]
    cell_rows = []
    for row in rows:
        values = _values(row)
        cells = _cells(values, row, plan, database_name, datasette, foreign, base_url, truncate_cells)
        if cells is None:  # a cell Datasette writes its own way: the row as Datasette writes it
            cell_rows.extend((await display(datasette, database_name, table_name, description, [row],
                                            link_column=link_column, truncate_cells=truncate_cells,
                                            sortable_columns=sortable_columns))[1])
            continue
        if link_column:
            # The key's values read from a plain dict of the row's (a labelled row looks each up in Python).
            keyed = dict(zip(names, values)) if type(row) is _CustomRow else row
            pk_path, quoted = _path_from_row_pks(keyed, pks, not pks, False), _path_from_row_pks(keyed, pks, not pks)
            cells.insert(0, {
                "column": link_name, "value_type": "pk", "is_special_link_column": len(pks) != 1, "raw": pk_path,
                "value": Markup(f'<a href="{table_path}/{quoted}">{escape(pk_path)}</a>')})
        cell_rows.append(_Row(cells))
    return columns, cell_rows


def _values(row: Any) -> list[Any]:
    """A row's values in the order Datasette's loop reads them (``zip(row, columns)``), read at C
    speed from a row with labels (Datasette's ``CustomRow``, whose item lookup is Python's)."""
    if type(row) is _CustomRow:
        return [dict.__getitem__(row, column) for column in row.columns]
    return list(row)


def _cells(values: list[Any], row: Any, plan: list, database: str, datasette: Any, foreign: dict[str, str],
           base_url: str, truncate_cells: int) -> list[dict] | None:
    """A row's cells as Datasette's loop writes them, or None at the first cell this does not write."""
    cells = []
    for index, column, renderer in plan:
        value = values[index]
        shown = renderer(value, row, database, datasette) if renderer is not None else None
        if shown:
            pass
        elif value is None or value == "":
            shown = _EMPTY
        else:
            kind = type(value)
            if kind is str:
                if "://" in value:  # perhaps a URL (Datasette's is_url, its link)
                    return None
                shown = value
            elif kind is int or kind is float or kind is bool:
                shown = str(value)
            elif kind is dict and column in foreign:  # a foreign key with its label
                label, value = value["label"], value["value"]
                link = _LINK_WITH_LABEL if label != value else _LINK_WITH_VALUE
                shown = Markup(link.format(database=database, base_url=base_url, table=tilde_encode(foreign[column]),
                                           link_id=tilde_encode(str(value)), id=str(escape(value)),
                                           label=str(escape(label)) or "-"))
            else:
                return None
            if truncate_cells and type(shown) is str and len(shown) > truncate_cells:
                shown = shown[:truncate_cells] + "\u2026"
        cells.append({"column": column, "value": shown, "raw": value,
                      "value_type": "none" if value is None else type(value).__name__})
    return cells



def install() -> None:
    """Table and row pages render their cells with ``display_cells`` (every Datasette of this
    process: the function answers as Datasette's does)."""
    if display_columns_and_rows is None:
        return
    for module in (datasette.views.table, datasette.views.row):
        if module.display_columns_and_rows is DATASETTE_DISPLAY:
            module.display_columns_and_rows = display_cells
