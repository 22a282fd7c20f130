"""The public surface is pinned: a change to it is a decision, not an accident."""

from __future__ import annotations

import gkllm


def test_public_names_are_exactly_these() -> None:
    assert sorted(gkllm.__all__) == sorted(
        ["extract", "aextract", "extract_document", "Report", "Document", "GkllmError", "__version__"])


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in gkllm.__all__:
        obj = getattr(gkllm, name)
        if name != "__version__":
            assert (obj.__doc__ or "").strip(), name


def test_the_package_ships_its_type_marker() -> None:
    from importlib.resources import files

    assert files("gkllm").joinpath("py.typed").is_file()
