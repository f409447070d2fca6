"""Spreadsheet formats for admin's import and export (django-import-export) that never write
a cell a spreadsheet would run as a formula (CSV/formula injection, OWASP).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or the
full-width ``＝ ＋ － ＠`` a Chinese input method types) is written with a leading
apostrophe, which Excel and WPS show as text. Importing takes exactly one such apostrophe
off again, so an exported sheet imports back unchanged (the catalogue's round trip between
databases); a value that itself starts with apostrophes before such a character gets one
more on export, so that it survives too.

import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` is not used: it only drops
a leading ``=`` (``+cmd|…`` and ``@SUM(…)`` pass), loses data, and writes empty cells as
"None".
"""

from __future__ import annotations

import re
from typing import Any

import tablib
from import_export.formats import base_formats

# What a spreadsheet runs as a formula when a cell starts with it (CSV injection), full-width
# forms included: exports escape such cells, the policy import and admin refuse such names.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# A plain number ("-12.5", "+86") is never run as a formula and is left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _needs_apostrophe(value: str) -> bool:
    unquoted = value.lstrip("'")
    return unquoted.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(unquoted)


def escape_formula(value: Any) -> Any:
    """The cell to write for ``value``: text that would start a formula gets an apostrophe."""
    if isinstance(value, str) and _needs_apostrophe(value):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    """The value an imported cell stands for: the inverse of ``escape_formula``."""
    if isinstance(value, str) and value.startswith("'") and _needs_apostrophe(value[1:]):
        return value[1:]
    return value


def _map_cells(dataset: tablib.Dataset, function: Any) -> tablib.Dataset:
    for index, row in enumerate(dataset):
        dataset[index] = tuple(function(cell) for cell in row)
    return dataset


class _FormulaSafe:
    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> Any:
        return super().export_data(_map_cells(dataset, escape_formula), **kwargs)  # type: ignore[misc]

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        dataset = super().create_dataset(in_stream, **kwargs)  # type: ignore[misc]
        return _map_cells(dataset, unescape_formula)


class FormulaSafeCSV(_FormulaSafe, base_formats.CSV):
    pass


class FormulaSafeTSV(_FormulaSafe, base_formats.TSV):
    pass


class FormulaSafeXLSX(_FormulaSafe, base_formats.XLSX):
    # XLSX.create_dataset takes no keyword arguments.
    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        return _map_cells(base_formats.XLSX.create_dataset(self, in_stream), unescape_formula)


# Admin's choices (settings.IMPORT_EXPORT_FORMATS): the formats import-export offers by
# default with what this machine can read and write, the spreadsheet ones made safe.
FORMATS = [
    FormulaSafeCSV,
    FormulaSafeXLSX,
    FormulaSafeTSV,
    base_formats.JSON,
    base_formats.YAML,
    base_formats.HTML,
]
