"""index/settings.py: one table of settings, each documented, read from the environment."""
from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import InvalidInput
from index.settings import SETTINGS, load_settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented_in_the_readme(setting):
    assert setting.env in README


def test_defaults_and_the_upload_folder_under_the_index():
    s = load_settings({})
    assert s.index_dir == ".index" and s.anonymous == "public" and s.uploads == Path(".index") / "uploads"
    assert load_settings({"VANBAN_UPLOAD_DIR": "/srv/up"}).uploads == Path("/srv/up")


def test_an_unknown_variable_is_an_error_that_names_it():
    with pytest.raises(InvalidInput, match="VANBAN_INDEXDIR"):
        load_settings({"VANBAN_INDEXDIR": "/x"})


@pytest.mark.parametrize("env, value, words", [("VANBAN_MAX_K", "0", "từ 1"), ("VANBAN_MAX_K", "nhiều", "số nguyên"),
                                              ("VANBAN_ANONYMOUS", "all", "public, none")])
def test_a_bad_value_names_the_variable_and_the_valid_values(env, value, words):
    with pytest.raises(InvalidInput, match=env) as e:
        load_settings({env: value})
    assert words in str(e.value)
