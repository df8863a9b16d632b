"""`import ketascreen` is cheap: the API (pint, pydantic, the models) loads on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pint", "pydantic", "numpy", "sqlalchemy", "reportlab", "ketascreen.api")


def _modules_after(code: str) -> dict[str, bool]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps({{name: name in sys.modules for name in {HEAVY!r}}}))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    loaded: dict[str, bool] = json.loads(out.splitlines()[-1])
    return loaded


def test_the_package_import_loads_none_of_the_core() -> None:
    loaded = _modules_after("import ketascreen\nprint(ketascreen.__version__)")
    assert not any(loaded.values()), loaded


def test_the_api_names_load_the_api_on_first_use() -> None:
    loaded = _modules_after("import ketascreen\nassert callable(ketascreen.screen)")
    assert loaded["ketascreen.api"] and loaded["pint"] and loaded["pydantic"]


def test_the_api_names_are_the_api_functions() -> None:
    import ketascreen
    from ketascreen import api

    for name in ("load_case", "parse_case", "parse_case_json", "screen"):
        assert getattr(ketascreen, name) is getattr(api, name)
    assert ketascreen.__version__ == "0.1.0"


def test_an_unknown_name_is_an_attribute_error() -> None:
    import ketascreen

    with pytest.raises(AttributeError, match="no_such_name"):
        ketascreen.no_such_name  # noqa: B018
