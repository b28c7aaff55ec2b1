"""Datasette's own functions, the same code, with some of the global names they read bound to
other objects (an encoder, a hook caller, a memoized function): what the site changes in them is
then only what those names stand for, and follows Datasette's code as it is."""

from __future__ import annotations

import types
from typing import Any


def rebound(function: Any, **names: Any) -> types.FunctionType | None:
    """A copy of ``function`` whose globals ``names`` are bound to the given objects; None when it is
    not a plain function or does not read every one of those names (another Datasette, whose
    function the caller then keeps as it is)."""
    if not isinstance(function, types.FunctionType) or not set(names) <= _global_names(function.__code__):
        return None
    copy = types.FunctionType(function.__code__, {**function.__globals__, **names}, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__doc__ = function.__doc__
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    return copy


def _global_names(code: types.CodeType) -> set[str]:
    """The names ``code`` and the code nested in it (comprehensions, lambdas) may read as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
