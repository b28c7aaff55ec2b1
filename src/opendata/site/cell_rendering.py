"""A table page's cells rendered by Datasette's own ``display_columns_and_rows``, with two of its
per-cell costs taken out.

For each of a page's cells (750 on a 50-row page of amounts) Datasette asks the plugins for a
rendering through pluggy (``pm.hook.render_cell``: argument checks, a copy of the list of
implementations, a generic call loop: ~1.3 ms a page), and for each row's link it tilde-encodes
the primary key's values byte by byte, twice (~0.9 ms). Here the same function, the same code
(``rebound``), reads ``pm.hook.render_cell`` as a caller that calls the implementations itself,
in pluggy's order and with pluggy's result (every answer that is not None), and ``tilde_encode``
memoized (a pure function of a string; the values of keys repeat from row to row). A hook wrapper
among the implementations (none in this site) sends the call through pluggy as before.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import datasette.utils
import datasette.views.row
import datasette.views.table
from datasette.plugins import pm

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


def install() -> None:
    """Table and row pages render their cells with ``display_columns_and_rows`` (every Datasette
    of this process: the function answers as Datasette's does)."""
    if display_columns_and_rows is None:
        return
    for module in (datasette.views.table, datasette.views.row):
        if module.display_columns_and_rows is DATASETTE_DISPLAY:
            module.display_columns_and_rows = display_columns_and_rows
