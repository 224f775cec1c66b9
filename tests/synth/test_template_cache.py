"""The templates' compiled code kept between runs: used only where nobody else can write, and
never a reason for compile to fail."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2
import pytest

from xflow_perimeter.synth import render


def _environment(cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("xflow_perimeter.synth", "templates"),
        bytecode_cache=cache,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def test_the_compiled_templates_are_kept_and_used_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = render._bytecode_cache()
    assert cache is not None
    first = _environment(cache).get_template("versions.tf.j2")
    kept = list((tmp_path / "xflow" / "templates").iterdir())
    assert len(kept) == 1
    assert stat.S_IMODE((tmp_path / "xflow" / "templates").stat().st_mode) == 0o700

    compiled: list[str] = []
    again = _environment(render._bytecode_cache())
    original = again._compile

    def counting(source: str, filename: str) -> object:
        compiled.append(filename)
        return original(source, filename)

    monkeypatch.setattr(again, "_compile", counting)
    second = again.get_template("versions.tf.j2")
    assert compiled == []  # loaded from the cache, not compiled
    context = {"header": "// h", "module": None, "q": repr, "policy": str}
    assert second.render(context) == first.render(context)


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_folder_others_can_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "xflow" / "templates"
    folder.mkdir(parents=True)
    os.chmod(folder, mode)  # its files are code that xflow would run
    assert render._bytecode_cache() is None


def test_a_shared_parent_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "xflow").mkdir()
    os.chmod(tmp_path / "xflow", 0o777)  # anyone could swap the templates folder inside it
    assert render._bytecode_cache() is None


def test_a_link_in_place_of_the_folder_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / "xflow").mkdir()
    (tmp_path / "xflow" / "templates").symlink_to(elsewhere)
    assert render._bytecode_cache() is None


def test_no_cache_when_the_folder_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", "utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert render._bytecode_cache() is None


def test_a_cache_that_cannot_be_written_never_fails_a_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = render._bytecode_cache()
    assert cache is not None
    folder = tmp_path / "xflow" / "templates"
    folder.rmdir()  # gone after the check: storing fails, rendering does not
    template = _environment(cache).get_template("versions.tf.j2")
    assert "// h" in template.render(header="// h", module=None, q=repr, policy=str)
