"""python -m index: usage errors, exit codes, accounts and the audit log, on the access index.

Exit codes (index.errors): 0 done, even with no result; 1 the index or an engine cannot be used; 2 usage.
Commands run in this process through ``index.__main__.main`` (the session's library and model); one
runs as a real subprocess.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from index.__main__ import _parser, main
from index.access import SYSTEM
from index.cli import EXIT_CODES_HELP
from index.errors import Unauthorized

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture
def run(access_index, capsys):
    """run(*argv) -> (exit code, stdout, stderr) of ``python -m index ARGV --index-dir <access index>``."""
    def go(*argv, index_dir=None):
        capsys.readouterr()
        try:
            code = main(list(argv) + ["--index-dir", str(index_dir or access_index.dir)])
        except SystemExit as e:   # argparse's usage errors and --help
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return go


USAGE_ERRORS = [  # argv, what the message names
    (["search", "dân vận", "--k", "0"], "--k"),
    (["search", "dân vận", "--k", "-3"], "--k"),
    (["search", "dân vận", "--k", "101"], "--k"),
    (["search", "dân vận", "--k", "mười"], "--k"),
    (["ask", "dân vận", "--k", "0"], "--k"),
    (["similar", "5500/UBND-KGVX", "--k", "0"], "--k"),
    (["search", "dân vận", "--year-from", "99999"], "--year-from"),
    (["search", "dân vận", "--year-from", "năm"], "--year-from"),
    (["search", "dân vận", "--year-from", "2020", "--year-to", "2019"], "--year-from"),
    (["graph", "--year-to", "12"], "--year-to"),
    (["cites", "CT 16", "--year-from", "-1"], "--year-from"),
    (["tasks", "--deadline-from", "30/10/2017"], "--deadline-from"),
    (["search", "dân vận", "--province", "Atlantis"], "--province"),
    (["search", "dân vận", "--mode", "fuzzy"], "--mode"),
    (["ask", ""], "Câu hỏi trống"),
    (["ask", "   "], "Câu hỏi trống"),
    (["cites", "\t"], "Câu hỏi trống"),
    (["search"], "thiếu tham số bắt buộc: query"),
    (["audit", "--limit", "0"], "--limit"),
    (["serve", "--port", "0"], "--port"),
    (["serve", "--port", "65536"], "--port"),
    (["serve", "--workers", "0"], "--workers"),
    (["users", "add", "an", "--role", "chief"], "--role"),
    (["users", "add", "a/b", "--role", "reader"], "Tên người dùng"),
    (["docs", "--as", "khong-co-ai"], "--as"),
    (["docs", "--bogus"], "tham số không nhận ra: --bogus"),
]


@pytest.mark.parametrize("argv, names", USAGE_ERRORS)
def test_usage_errors_exit_2_with_a_vietnamese_message_naming_the_option(run, argv, names):
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert err.splitlines()[-1].startswith("Lỗi") and names in err.splitlines()[-1]


@pytest.mark.parametrize("argv", [["search", "dân vận", "--k", "0"], ["search", "dân vận", "--year-from", "1"]])
def test_a_numeric_option_names_its_valid_range(run, argv):
    code, _, err = run(*argv)
    assert code == 2 and ("từ 1 đến 100" in err or "từ 1000 đến 9999" in err)


def test_exit_codes_are_the_same_for_the_same_situation(run, tmp_path):
    # nothing found is still done (0), whichever command finds nothing
    for argv in (["similar", "404/UBND-XX"], ["cites", "Chỉ thị 99"], ["search", "xyzzy qwerty", "--province", "Huế"],
                 ["tasks", "--agency", "không có cơ quan này"], ["users", "remove", "khong-co-ai"]):
        code, _, _ = run(*argv)
        assert code == 0, argv
    # no index there: the index cannot be used (1)
    for argv in (["docs"], ["search", "dân vận"], ["similar", "5500/UBND-KGVX"], ["stats"]):
        code, _, err = run(*argv, index_dir=tmp_path / "khong-co")
        assert code == 1 and "Chưa có chỉ mục" in err, argv


def _commands(parser, prefix=()):
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,), sub
                yield from _commands(sub, prefix + (name,))


def test_every_command_lists_the_exit_codes_in_its_help(capsys):
    commands = list(_commands(_parser()))
    assert {c[0] for c, _ in commands} >= {"ask", "cites", "search", "docs", "stats", "graph", "compare", "tasks",
                                         "similar", "users", "audit", "serve"}
    for argv in [()] + [c for c, _ in commands]:
        with pytest.raises(SystemExit) as e:
            main(list(argv) + ["--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert EXIT_CODES_HELP.split(";")[0] in " ".join(out.split()), argv
        assert "Cách dùng:" in out and "usage:" not in out


def test_accounts_tokens_and_the_audit_log_from_the_command_line(access_index, run, monkeypatch):
    lib = access_index.library
    monkeypatch.setattr(sys, "stdin", io.StringIO("mật khẩu dài\n"))
    code, out, _ = run("users", "add", "bich.ngoc", "--role", "reader", "--group", "noi-chinh", "--group", "khac",
                       "--password-stdin")
    assert code == 0 and "bich.ngoc" in out
    assert lib.sign_in("bich.ngoc", "mật khẩu dài").groups == {"noi-chinh", "khac"}
    code, out, _ = run("users", "add", "bich.ngoc", "--role", "admin", "--group", "khac")   # keeps the password
    assert code == 0 and lib.sign_in("bich.ngoc", "mật khẩu dài").is_admin

    code, out, _ = run("users", "token", "bich.ngoc")
    first = out.strip().splitlines()[-1]
    assert code == 0 and lib.principal_for_token(first).name == "bich.ngoc"
    code, out, _ = run("users", "token", "bich.ngoc", "--json")
    second = json.loads(out)["token"]
    assert lib.principal_for_token(second).name == "bich.ngoc"
    with pytest.raises(Unauthorized):
        lib.principal_for_token(first)                                     # the old token stopped working

    code, out, _ = run("users", "list", "--json")
    (user,) = [u for u in json.loads(out)["users"] if u["name"] == "bich.ngoc"]
    assert user == {"name": "bich.ngoc", "role": "admin", "groups": ["khac"], "password": True,
                    "token": True}
    assert second not in out and "argon2" not in out                       # hashes and tokens never listed
    assert run("users", "remove", "bich.ngoc")[0] == 0
    with pytest.raises(Unauthorized):
        lib.principal_for_token(second)

    code, out, _ = run("audit", "--limit", "5")
    lines = out.splitlines()
    assert code == 0 and [line.split()[3] for line in lines[:5]] == ["user.remove", "user.token", "user.token",
                                                                     "user.update", "user.add"]
    assert all(line.split()[2] == "system" and "bich.ngoc" in line for line in lines[:5])
    code, out, _ = run("audit", "--json", "--limit", "1")
    (entry,) = json.loads(out)["audit"]
    assert entry["actor"] == "system" and entry["action"] == "user.remove" and entry["detail"] == {"user": "bich.ngoc"}


def test_documents_without_a_number_are_told_apart_by_their_file(access_index, run, tmp_path):
    for name, day in (("ghi-chu-a.txt", 1), ("ghi-chu-b.txt", 2)):
        (tmp_path / name).write_text(f"Ghi chú nội bộ số {day} về lịch họp giao ban tuần.\n", encoding="utf-8")
    access_index.library.ingest(SYSTEM, [tmp_path], group="khong-so")     # visible to administrators only
    code, out, _ = run("docs")
    lines = [line for line in out.splitlines() if "ghi-chu-" in line]
    assert code == 0 and len(lines) == 2 and lines[0] != lines[1]
    assert lines[0].endswith("[tệp ghi-chu-a.txt]") and lines[1].endswith("[tệp ghi-chu-b.txt]")


def test_a_read_can_be_checked_as_another_account(access_index, run):
    code, out, _ = run("search", "thạch anh tím", "--json", "--as", "insider")
    assert code == 0 and "77/KH-UBND" in out
    for who in (["--as", "outsider"], ["--anonymous"]):
        code, out, _ = run("search", "thạch anh tím", "--json", *who)
        assert code == 0 and "77/KH-UBND" not in out and "9999/UBND-KGVX" not in out


def test_the_real_command_refuses_a_zero_k_before_loading_anything(access_index):
    r = subprocess.run([sys.executable, "-m", "index", "search", "dân vận", "--k", "0", "--index-dir",
                        str(access_index.dir)], capture_output=True, text=True, cwd=REPO, timeout=120,
                       env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == "Lỗi (--k): k = 0 không hợp lệ: phải là số nguyên từ 1 đến 100."
