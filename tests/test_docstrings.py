"""Every dataclass in the package says what it stands for in a docstring.

Besides documenting the records, this keeps start-up fast: for a class without a docstring,
``dataclasses`` builds one from ``inspect.signature`` when the class is created, at import.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "compiler" / "xflow_perimeter"


def _is_dataclass_decorator(decorator: ast.expr) -> bool:
    """``@dataclass``, ``@dataclasses.dataclass``, either called with options or not."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id == "dataclass"
    return isinstance(target, ast.Attribute) and target.attr == "dataclass"


def _dataclasses(source: str) -> list[ast.ClassDef]:
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef)
        and any(_is_dataclass_decorator(d) for d in node.decorator_list)
    ]


def test_every_dataclass_has_a_docstring() -> None:
    checked: list[str] = []
    undocumented: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _dataclasses(path.read_text("utf-8")):
            where = f"{path.relative_to(PACKAGE.parent).as_posix()}:{node.lineno} {node.name}"
            checked.append(where)
            if ast.get_docstring(node) is None:
                undocumented.append(where)
    assert any(entry.endswith(" Span") for entry in checked), f"no dataclass found in {PACKAGE}"
    assert not undocumented, "dataclasses without a docstring:\n" + "\n".join(undocumented)


def test_the_decorator_forms_are_recognised() -> None:
    source = (
        "@dataclass\nclass A: ...\n"
        "@dataclass(frozen=True, slots=True)\nclass B: ...\n"
        "@dataclasses.dataclass(order=True)\nclass C: ...\n"
        "@functools.total_ordering\nclass D: ...\n"
    )
    assert [node.name for node in _dataclasses(source)] == ["A", "B", "C"]
