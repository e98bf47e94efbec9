"""LazyRegistry: lazy import on first use, duplicate names and unknown names are errors."""
import pytest

from ltr.utils.registry import LazyRegistry


def test_lazy_entry_is_imported_on_first_use_and_cached():
    registry = LazyRegistry("thing", {"join": "os.path:join"})
    import os.path

    assert registry.get("join") is os.path.join
    assert registry.names() == ["join"] and "join" in registry


def test_duplicates_and_unknown_names_are_errors():
    registry = LazyRegistry("thing", {"join": "os.path:join"})
    registry.register("one", 1)
    with pytest.raises(ValueError, match="thing 'join' is already registered"):
        registry.register("join", 2)
    with pytest.raises(ValueError, match="unknown thing 'two'; valid names: join, one"):
        registry.get("two")
