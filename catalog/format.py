"""The catalog file format: YAML/JSON (format 1) or CSV -> a validated Catalog.

Errors name the file, the line and the field (see docs/catalog-format.md).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from catalog.csvformat import (
    DEFAULT_CURRENCY,
    DEFAULT_STORE,
    INSTACART_HEADER,
    load_instacart_csv,
    load_products_csv,
    read_header,
)
from catalog.errors import CatalogError, Problem
from catalog.fields import FieldPath, Reader, by_line, render_path
from catalog.merge import merge_catalogs
from catalog.model import Catalog
from catalog.schema import FORMAT_VERSION, build_catalog

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_STORE",
    "FORMAT_VERSION",
    "load_catalog",
    "load_instacart_csv",
    "load_products_csv",
    "merge_catalogs",
    "parse_catalog",
]

logger = logging.getLogger(__name__)

FILE_FIELD = "(file)"
YAML_SUFFIXES = (".yaml", ".yml")


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Load a catalog file, choosing the reader by suffix (.yaml/.yml/.json/.csv)."""
    source = os.fspath(path)
    suffix = Path(source).suffix.lower()
    if suffix == ".csv":
        if read_header(source) == INSTACART_HEADER:
            return load_instacart_csv(source)
        return load_products_csv(source)
    if suffix not in (*YAML_SUFFIXES, ".json"):
        message = f"unknown file type {suffix or '(none)'}: expected .yaml, .yml, .json or .csv"
        raise CatalogError([Problem(source, None, FILE_FIELD, message)])
    text = _read_text(source)
    if suffix == ".json":
        data = _parse_json(text, source)
        # JSON is (nearly always) YAML too: composing it with PyYAML gives every node's line.
        try:
            _, lines, duplicates = _parse_yaml(text, source)
        except CatalogError:
            lines, duplicates = {}, []
    else:
        data, lines, duplicates = _parse_yaml(text, source)
    return _parse(data, Reader(source, lines), duplicates)


def parse_catalog(
    data: object, *, source: str, lines: Mapping[FieldPath, int] | None = None
) -> Catalog:
    """Validate already-parsed format-1 data; `lines` maps field paths to line numbers if known."""
    return _parse(data, Reader(source, lines), [])


def _parse(data: object, reader: Reader, duplicates: list[Problem]) -> Catalog:
    """Build the catalog, or raise one CatalogError listing every problem."""
    reader.problems.extend(duplicates)
    catalog = build_catalog(data, reader)
    if catalog is None or reader.problems:
        raise CatalogError(sorted(reader.problems, key=by_line))
    logger.info(
        "loaded %s: %d products, %d option groups, %d stores",
        reader.source,
        len(catalog.products),
        len(catalog.option_groups),
        len(catalog.stores),
    )
    return catalog


def _read_text(source: str) -> str:
    """The file's text (UTF-8, a BOM is skipped); unreadable files are a CatalogError."""
    try:
        return Path(source).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start}): save the file as UTF-8"
        raise CatalogError([Problem(source, None, FILE_FIELD, message)]) from error
    except OSError as error:
        raise CatalogError(
            [Problem(source, None, FILE_FIELD, error.strerror or str(error))]
        ) from error


def _parse_json(text: str, source: str) -> object:
    """Parse JSON text; a syntax error names its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogError(
            [Problem(source, error.lineno, FILE_FIELD, f"not valid JSON: {error.msg}")]
        ) from error


def _parse_yaml(text: str, source: str) -> tuple[object, dict[FieldPath, int], list[Problem]]:
    """Parse YAML into plain data, the line of every path, and duplicate-key problems."""
    loader = (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
        lines: dict[FieldPath, int] = {}
        duplicates: list[Problem] = []
        if root is None:
            return None, lines, duplicates
        # Walk before constructing: construction rewrites merge keys (<<) in the node tree.
        _walk(root, (), lines=lines, duplicates=duplicates, source=source, seen=set())
        return loader.construct_document(root), lines, duplicates
    except yaml.MarkedYAMLError as error:
        raise CatalogError([_syntax_problem(error, source)]) from error
    except yaml.YAMLError as error:
        message = f"not valid YAML: {error}"
        raise CatalogError([Problem(source, None, FILE_FIELD, message)]) from error
    finally:
        loader.dispose()


def _syntax_problem(error: yaml.MarkedYAMLError, source: str) -> Problem:
    """A YAML syntax error as a Problem on its line, naming where the broken part started."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    reason = error.problem or error.context or "syntax error"
    start = error.context_mark
    if error.context and start is not None and start.line + 1 != line:
        reason += f" ({error.context} that starts on line {start.line + 1})"
    return Problem(source, line, FILE_FIELD, f"not valid YAML: {reason}")


def _walk(
    node: yaml.Node,
    path: FieldPath,
    *,
    lines: dict[FieldPath, int],
    duplicates: list[Problem],
    source: str,
    seen: set[int],
) -> None:
    """Record the line of this node and its children; an aliased node is walked only once."""
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return  # also stops recursive aliases and "billion laughs" expansion
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(
                child,
                (*path, index),
                lines=lines,
                duplicates=duplicates,
                source=source,
                seen=seen,
            )
    elif isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, child in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key = key_node.value
            child_path = (*path, key)
            if key in keys:
                line = key_node.start_mark.line + 1
                duplicates.append(Problem(source, line, render_path(child_path), "duplicate key"))
            keys.add(key)
            lines.setdefault(child_path, key_node.start_mark.line + 1)
            _walk(child, child_path, lines=lines, duplicates=duplicates, source=source, seen=seen)
