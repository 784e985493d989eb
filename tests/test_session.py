"""ui/session.py: sign-in sessions, the cookie that keeps them, single sign-on identities; the page list per
role (ui/shell.py) and Library.current_principal, on a real index's accounts."""
from __future__ import annotations

import shutil

import pytest

from index.access import ANYONE, SYSTEM, Principal
from index.errors import Unauthorized
from index.library import Library
from ui import session
from ui.shell import page_names


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_sign_in_session_holds_its_principal_until_it_expires_or_is_closed():
    clock = Clock()
    s = session.SignIns(ttl=60, clock=clock)
    who = Principal("docgia", "reader", frozenset({"vp"}))
    token = s.open(who)
    assert len(token) >= 40 and s.get(token) == who
    assert s.get("khong-phai-token") is None and s.get(None) is None
    clock.now += 61
    assert s.get(token) is None                    # expired
    token = s.open(who)
    s.close(token)
    assert s.get(token) is None


def test_five_failed_sign_ins_hold_the_name_back_for_five_minutes():
    clock = Clock()
    s = session.SignIns(clock=clock)
    for _ in range(4):
        s.failed("DocGia")
    assert s.blocked_for("docgia") == 0
    s.failed("docgia")
    assert 290 <= s.blocked_for("docgia") <= 300
    clock.now += 301
    assert s.blocked_for("docgia") == 0


def test_the_cookie_script_writes_only_a_token_and_can_delete_it():
    token = "A" * 43
    script = session.cookie_script(token)
    assert f'"vanban_phien={token}; path=/; max-age=28800; samesite=strict"' in script
    assert "max-age=0" in session.cookie_script(None)
    with pytest.raises(ValueError):
        session.cookie_script('x"; document.location="http://host/')


def test_single_sign_on_claims_map_to_a_reader_or_an_administrator_with_groups():
    config = {"admins": ["Quantri@Tinh.gov.vn"], "admin_groups": ["cntt-quan-tri"], "groups_claim": "roles"}
    admin = session.principal_from_claims({"email": "quantri@tinh.gov.vn", "roles": ["vp"]}, config)
    assert admin.role == "admin" and admin.name == "quantri@tinh.gov.vn"
    by_group = session.principal_from_claims({"email": "b@tinh.gov.vn", "roles": "cntt-quan-tri vp"}, config)
    assert by_group.is_admin and by_group.groups == {"cntt-quan-tri", "vp"}
    reader = session.principal_from_claims({"sub": "abc-123", "roles": ["vp", "có dấu cách"]}, config)
    assert reader.role == "reader" and reader.groups == {"vp"}           # names outside the pattern dropped
    limited = session.principal_from_claims({"email": "c@tinh.gov.vn", "groups": ["vp", "x"]}, {"groups": ["vp"]})
    assert limited.groups == {"vp"}
    with pytest.raises(ValueError):
        session.principal_from_claims({}, {})


def test_pages_per_role():
    reader = Principal("docgia", "reader", frozenset())
    admin = Principal("quantri", "admin")
    assert page_names(ANYONE, "public") == ["search", "document", "network", "compare", "tasks", "similar", "sign_in"]
    assert "admin" not in page_names(reader, "public") and page_names(reader, "public")[-1] == "account"
    assert page_names(admin, "public")[-2:] == ["admin", "account"]
    assert page_names(ANYONE, "none") == ["sign_in"]                 # VANBAN_ANONYMOUS=none
    assert "search" in page_names(reader, "none")


def test_current_principal_follows_the_account_and_refuses_a_removed_one(corpus_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    lib = Library(index_dir)
    try:
        lib.add_user(SYSTEM, "docgia", "reader", groups=["vp"], password="mat-khau-1")
        who = lib.sign_in("docgia", "mat-khau-1")
        lib.add_user(SYSTEM, "docgia", "admin", groups=["vp", "kt"], password="mat-khau-1")
        now = lib.current_principal(who)
        assert now.is_admin and now.groups == {"vp", "kt"}
        lib.remove_user(SYSTEM, "docgia")
        with pytest.raises(Unauthorized):
            lib.current_principal(who)
        assert lib.current_principal(ANYONE) is ANYONE
    finally:
        lib.close()
