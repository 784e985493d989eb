"""The README's app section says what a new user needs: the port, the accounts, the single sign-on
configuration the code reads (issue 16: the README did not say how to change the port)."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from ui import session

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_readme_says_how_to_change_the_port():
    assert "--server.port" in README and "STREAMLIT_SERVER_PORT" in README


def test_the_readme_documents_every_single_sign_on_setting_the_code_reads():
    code = inspect.getsource(session.principal_from_claims)
    keys = set(re.findall(r'config\.get\("(\w+)"', code))
    assert keys == {"groups_claim", "groups", "admins", "admin_groups"}
    section = README[README.index("[vanban_sso]"):]
    assert all(f"\n{k} = " in section for k in keys), keys
    assert "[auth]" in README and "server_metadata_url" in README and "st.login" in README
