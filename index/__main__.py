"""python -m index COMMAND --index-dir DIR [--json]

Commands:
  ask "câu hỏi" [--k N]             answer with the documents, passages and answering sentence
  cites "tham chiếu"                every document citing a reference, with the quote as written
  search "truy vấn" [--k N] [--mode hybrid|bm25|dense] [--province P] [--year-from Y] [--year-to Y] [--type T]
  docs                              the documents in the index
  stats                             counts, embedder, index kind, generation
  graph [--format graphml|csv] [--province P] [--year-from Y] [--year-to Y] [--reference R]
                                    reference network: documents and the documents they cite
  compare --province P --province Q [--doc SỐ_HIỆU] [--themes FILE]
                                    central documents cited, timeline and themes side by side
  tasks [--format csv|ics] [--province P] [--agency A] [--deadline-from D] [--deadline-to D]
                                    assignments and deadlines, with the source passage
  similar "số hiệu" [--k N]         the most similar documents of other provinces
  users add NAME --role reader|admin [--group G]... [--password-stdin]
  users list | users remove NAME | users token NAME
                                    accounts; `users token` prints a new API token as its last line
  audit [--limit N]                 who did what, when (ingests, uploads, account changes)
  serve [--host 127.0.0.1] [--port 8000] [--workers N]
                                    the REST API (FastAPI on uvicorn), OpenAPI at /openapi.json

The command line runs on the server itself, as its administrator (every document, server paths);
the read commands take --as NAME (an account's view) or --anonymous, to check what others see.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .access import ROLES, SYSTEM, Principal
from .cli import ArgumentParser, int_option
from .errors import EXIT_OK, VanbanError
from .library import make_filters, open_library
from .search import Filters
from .settings import settings

# a library error's field -> the option that set it (messages name the option the user typed)
_OPTIONS = {"k": "--k", "year_from": "--year-from", "year_to": "--year-to", "province": "--province",
            "deadline_from": "--deadline-from", "deadline_to": "--deadline-to", "mode": "--mode",
            "role": "--role", "nhóm": "--group", "password": "--password-stdin", "limit": "--limit", "as": "--as"}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", default=None, help="thư mục chỉ mục (mặc định $VANBAN_INDEX_DIR hoặc .index)")
    common.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    reads = argparse.ArgumentParser(add_help=False)
    who = reads.add_mutually_exclusive_group()
    who.add_argument("--as", dest="as_user", metavar="TÊN",
                     help="đọc với quyền của tài khoản TÊN (kiểm tra phân quyền); mặc định: quản trị viên")
    who.add_argument("--anonymous", action="store_true", help="đọc như khách chưa đăng nhập (chỉ văn bản công khai)")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--province", help="lọc theo tỉnh/thành (có hoặc không dấu)")
    filters.add_argument("--year-from", type=int_option("--year-from"), help="từ năm (1000–9999)")
    filters.add_argument("--year-to", type=int_option("--year-to"), help="đến năm (1000–9999)")
    filters.add_argument("--type", dest="doc_type", help="loại văn bản, ví dụ 'Công văn'")
    filters.add_argument("--issuer", help="cơ quan ban hành")
    k_help = "số kết quả, từ 1 đến $VANBAN_MAX_K (100 nếu không đặt)"

    p = ArgumentParser(prog="python -m index", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="LỆNH")
    a = sub.add_parser("ask", parents=[common, reads, filters], help="hỏi và nhận câu trả lời có trích dẫn")
    a.add_argument("question")
    a.add_argument("--k", type=int_option("--k"), default=5, help=k_help + "; mặc định 5")
    c = sub.add_parser("cites", parents=[common, reads, filters], help="văn bản nào trích dẫn một văn bản")
    c.add_argument("reference")
    s = sub.add_parser("search", parents=[common, reads, filters], help="tìm đoạn văn bản")
    s.add_argument("query")
    s.add_argument("--k", type=int_option("--k"), default=10, help=k_help + "; mặc định 10")
    s.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    sub.add_parser("docs", parents=[common, reads], help="danh sách văn bản")
    sub.add_parser("stats", parents=[common, reads], help="thống kê chỉ mục")
    g = sub.add_parser("graph", parents=[common, reads], help="mạng trích dẫn giữa các văn bản")
    g.add_argument("--format", choices=["graphml", "csv"], help="in bản xuất GraphML hoặc CSV (các cạnh)")
    g.add_argument("--province", help="tỉnh/thành của văn bản trích dẫn")
    g.add_argument("--year-from", type=int_option("--year-from"), help="từ năm (1000–9999)")
    g.add_argument("--year-to", type=int_option("--year-to"), help="đến năm (1000–9999)")
    g.add_argument("--reference", help="chỉ giữ trích dẫn tới văn bản này, ví dụ '114-KL/TW'")
    cp = sub.add_parser("compare", parents=[common, reads], help="so sánh các tỉnh hoặc văn bản")
    cp.add_argument("--province", action="append", default=[], help="tỉnh/thành (lặp lại để thêm cột)")
    cp.add_argument("--doc", action="append", default=[], help="số hiệu văn bản (lặp lại để thêm cột)")
    cp.add_argument("--themes", help="tệp chủ đề JSON (mặc định index/themes.json)")
    t = sub.add_parser("tasks", parents=[common, reads], help="nhiệm vụ được giao và thời hạn")
    t.add_argument("--format", choices=["csv", "ics"], help="in bản xuất CSV hoặc iCalendar (các hạn)")
    t.add_argument("--province", help="lọc theo tỉnh/thành")
    t.add_argument("--agency", help="lọc theo cơ quan được giao (có hoặc không dấu)")
    t.add_argument("--deadline-from", help="hạn từ ngày (YYYY-MM-DD)")
    t.add_argument("--deadline-to", help="hạn đến ngày (YYYY-MM-DD)")
    sm = sub.add_parser("similar", parents=[common, reads], help="văn bản tương tự ở tỉnh khác")
    sm.add_argument("number", help="số hiệu văn bản, ví dụ '5500/UBND-KGVX'")
    sm.add_argument("--k", type=int_option("--k"), default=5, help=k_help + "; mặc định 5")

    u = sub.add_parser("users", help="tài khoản: thêm, liệt kê, xoá, cấp mã truy cập API")
    us = u.add_subparsers(dest="action", required=True, metavar="VIỆC")
    ua = us.add_parser("add", parents=[common], help="thêm hoặc sửa một tài khoản")
    ua.add_argument("name", help="tên đăng nhập (chữ, số, . _ - @; tối đa 64 ký tự)")
    ua.add_argument("--role", choices=ROLES, required=True, help="reader (người đọc) hoặc admin (quản trị)")
    ua.add_argument("--group", action="append", default=[], dest="groups",
                    help="nhóm truy cập được xem (lặp lại cho nhiều nhóm); thay các nhóm cũ của tài khoản")
    ua.add_argument("--password-stdin", action="store_true",
                    help="đọc mật khẩu (ít nhất 8 ký tự) từ dòng đầu của đầu vào chuẩn; không có thì giữ mật khẩu cũ")
    us.add_parser("list", parents=[common], help="các tài khoản")
    ur = us.add_parser("remove", parents=[common], help="xoá một tài khoản")
    ur.add_argument("name")
    ut = us.add_parser("token", parents=[common], help="cấp mã truy cập API mới (mã cũ hết hiệu lực); in ở dòng cuối")
    ut.add_argument("name")
    au = sub.add_parser("audit", parents=[common], help="nhật ký: ai làm gì, lúc nào")
    au.add_argument("--limit", type=int_option("--limit", 1, 100000), default=1000,
                    help="số bản ghi mới nhất (1–100000, mặc định 1000)")
    sv = sub.add_parser("serve", parents=[common], help="chạy REST API (FastAPI trên uvicorn)",
                        epilog="Đặt sau một reverse proxy có TLS; xem mục triển khai trong README.")
    sv.add_argument("--host", default="127.0.0.1", help="địa chỉ lắng nghe (mặc định 127.0.0.1: chỉ máy này)")
    sv.add_argument("--port", type=int_option("--port", 1, 65535), default=8000, help="cổng (1–65535, mặc định 8000)")
    sv.add_argument("--workers", type=int_option("--workers", 1, 64), default=1,
                    help="số tiến trình uvicorn (1–64, mặc định 1); mỗi tiến trình nạp mô hình một lần")
    return p


def _filters(args) -> Filters:
    return make_filters(province=getattr(args, "province", None), year_from=getattr(args, "year_from", None),
                        year_to=getattr(args, "year_to", None), doc_type=getattr(args, "doc_type", None),
                        issuer=getattr(args, "issuer", None))


def run(args, who: Principal = SYSTEM) -> dict:
    """The command's result as a dict (the same dict --json prints). The command line runs on the
    server itself, so it reads as an administrator."""
    from . import research as R
    from .access import ANYONE
    lib = open_library(args.index_dir)
    c = args.command
    if getattr(args, "anonymous", False):
        who = ANYONE
    elif getattr(args, "as_user", None):
        who = lib.principal_of(who, args.as_user)
    if c == "ask":
        return lib.ask(who, args.question, k=args.k, filters=_filters(args))
    if c == "cites":
        return lib.cites(who, args.reference, filters=_filters(args))
    if c == "search":
        return lib.search(who, args.query, k=args.k, mode=args.mode, filters=_filters(args))
    if c == "docs":
        return lib.documents(who)
    if c == "graph":
        g = lib.graph(who, province=args.province, year_from=args.year_from, year_to=args.year_to,
                      reference=args.reference)
        r = R.graph_json(g)
        if args.format:
            r["export"] = R.graph_graphml(g) if args.format == "graphml" else R.graph_csv(g)
        return r
    if c == "compare":
        themes = R.load_themes(args.themes) if args.themes else None
        doc_ids = [lib.document_by_number(who, n)["id"] for n in args.doc]
        return lib.compare(who, provinces=args.province or None, doc_ids=doc_ids or None, themes=themes)
    if c == "tasks":
        items = lib.tasks(who, province=args.province, agency=args.agency, deadline_from=args.deadline_from,
                          deadline_to=args.deadline_to)
        r = {"tasks": items}
        if args.format:
            r["export"] = R.tasks_csv(items) if args.format == "csv" else R.tasks_ics(items)
        return r
    if c == "similar":
        return lib.similar(who, lib.document_by_number(who, args.number)["id"], k=args.k)
    if c == "users":
        return _users(lib, who, args)
    if c == "audit":
        return {"audit": lib.audit_log(who, limit=args.limit)}
    return lib.stats(who)


def _users(lib, who: Principal, args) -> dict:
    if args.action == "list":
        return {"users": lib.users(who)}
    if args.action == "remove":
        lib.remove_user(who, args.name)
        return {"removed": args.name}
    if args.action == "token":
        return {"user": args.name, "token": lib.new_token(who, args.name)}
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    return {"user": lib.add_user(who, args.name, args.role, args.groups, password=password)}


def _doc_line(d: dict) -> str:
    from vn.cite import format_citation
    line = f"{format_citation(d)}" + (f" — {d['title']}" if d.get("title") else "")
    if not d.get("number") and d.get("path"):  # without a number, the file tells documents apart
        line += f" [tệp {Path(d['path']).name}]"
    return line


def render(command: str, r: dict) -> str:
    """Readable Vietnamese text for a command's result."""
    lines: list[str] = []
    if command in ("ask", "cites"):
        lines.append(r["answer"])
        for c in r.get("candidates", []) if not r.get("documents") else []:
            lines.append(f"  • {c['canonical']}: {c['n_documents']} văn bản")
        if command == "cites":
            for d in r["documents"]:
                lines.append(f"\n■ {_doc_line(d)}")
                for p in d["passages"]:
                    lines.append(f"  “{p['quote']}” — {p['text']}")
        else:
            for i, p in enumerate(r["passages"], 1):
                where = ", ".join(x for x in [p.get("label") or "", f"trang {p['page']}" if p.get("page") else ""] if x)
                lines.append(f"\n[{i}] {_doc_line(p['document'])}" + (f" ({where})" if where else ""))
                lines.append(f"    {p['text']}")
                if p.get("sentence"):
                    lines.append(f"    → {p['sentence'].strip()}")
            if r.get("related"):
                lines.append("\nCó thể liên quan:")
            for i, p in enumerate(r.get("related") or [], 1):
                lines.append(f"\n[{i}] {_doc_line(p['document'])}")
                lines.append(f"    {p['text']}")
    elif command == "search":
        if not r["results"]:
            lines.append("Không tìm thấy kết quả.")
        for h in r["results"]:
            lines.append(f"{h['rank']:>2}. [{h['score']:.3f}] {h['number'] or h['document']['path']}"
                         + (f" (trang {h['page']})" if h["page"] else ""))
            lines.append(f"    {h['text'][:300]}")
    elif command == "docs":
        for d in r["documents"]:
            lines.append(_doc_line(d))
    elif "export" in r:
        return r["export"].rstrip("\r\n")
    elif command == "graph":
        lines += _render_graph(r)
    elif command == "compare":
        lines += _render_compare(r)
    elif command == "tasks":
        lines += _render_tasks(r)
    elif command == "similar":
        lines += _render_similar(r)
    elif command == "users":
        lines += _render_users(r)
    elif command == "audit":
        lines += _render_audit(r)
    else:
        labels = {"documents": "Văn bản", "passages": "Đoạn", "references": "Trích dẫn", "files": "Tệp",
                  "failed": "Tệp lỗi", "embedder": "Bộ nhúng", "dimension": "Số chiều",
                  "index_kind": "Loại chỉ mục", "generation": "Thế hệ", "built_at": "Dựng lúc",
                  "index_dir": "Thư mục"}
        lines += [f"{labels.get(k, k)}: {v}" for k, v in r.items()]
    return "\n".join(lines)


def _render_graph(r: dict) -> list[str]:
    docs = [n for n in r["nodes"] if n["kind"] == "indexed"]
    lines = [f"{len(r['nodes'])} nút ({len(docs)} văn bản trong chỉ mục), {len(r['edges'])} quan hệ trích dẫn."]
    cited = [n for n in r["nodes"] if n["cited_by"]]
    if cited:
        lines.append("\nĐược trích dẫn nhiều nhất:")
    for n in cited:
        by = [e["source_label"] for e in r["edges"] if e["target"] == n["id"]]
        lines.append(f"  {n['label']} ({n.get('level') or 'không rõ cấp'}): {n['cited_by']} văn bản — {'; '.join(by)}")
    return lines


def _render_compare(r: dict) -> list[str]:
    cols = [c["id"] for c in r["columns"]]
    lines = ["Cột: " + "; ".join(f"{c['label']} ({len(c['doc_ids'])} văn bản)" for c in r["columns"])]
    lines.append("\nVăn bản trung ương được trích dẫn:")
    if not r["central_matrix"]:
        lines.append("  (không có)")
    for row in r["central_matrix"]:
        lines.append(f"■ {row['canonical']}")
        for c in cols:
            cell = row["cells"].get(c)
            if cell:
                lines.append(f"  {c}: " + "; ".join(f"{x['number']} “{x['quote']}”" for x in cell))
            else:
                lines.append(f"  {c}: —")
    lines.append("\nDòng thời gian:")
    for t in r["timeline"]:
        lines.append(f"  {t['date'] or 'không rõ ngày'}  [{t['column']}] {t['number'] or ''} {t['title'] or ''}".rstrip())
    lines.append("\nChủ đề (số đoạn):")
    for row in r["theme_matrix"]:
        lines.append(f"  {row['theme']}: " + "; ".join(f"{c} {row['cells'][c]['count']}" for c in cols))
    return lines


def _render_tasks(r: dict) -> list[str]:
    if not r["tasks"]:
        return ["Không tìm thấy nhiệm vụ nào."]
    lines = []
    for t in r["tasks"]:
        when = t["deadline"] and "hạn " + "/".join(reversed(t["deadline"].split("-"))) or t["deadline_text"] or "không ghi hạn"
        lines.append(f"■ {t['agency'] or 'không rõ cơ quan'} — {when}")
        lines.append(f"  {t['task']}")
        lines.append(f"  ({t['citation']}" + (f", {t['label']}" if t.get("label") else "") + ")")
    return lines


def _render_similar(r: dict) -> list[str]:
    lines = [f"Văn bản tương tự {_doc_line(r['document'])} ở tỉnh khác:"]
    if not r["results"]:
        lines.append("  (không có)")
    for i, x in enumerate(r["results"], 1):
        lines.append(f"\n{i}. [{x['score']:.3f}] {_doc_line(x['document'])}")
        for p in x["pairs"]:
            lines.append(f"   {p['similarity']:.3f}  “{p['text'][:160]}”")
            lines.append(f"          ↔ “{p['other_text'][:160]}”")
    return lines


def _render_users(r: dict) -> list[str]:
    if "users" in r:
        if not r["users"]:
            return ["Chưa có tài khoản nào."]
        return [f"{u['name']}  {u['role']}  nhóm: {', '.join(u['groups']) or '—'}  "
                f"mật khẩu: {'có' if u['password'] else 'không'}  mã API: {'có' if u['token'] else 'không'}"
                for u in r["users"]]
    if "removed" in r:
        return [f"Đã xoá tài khoản {r['removed']}."]
    if "token" in r:  # the token alone on the last line, for scripts
        return [f"Mã truy cập API mới của {r['user']} (chỉ hiện một lần; mã cũ hết hiệu lực):", r["token"]]
    u = r["user"]
    return [f"Đã lưu tài khoản {u['name']} ({u['role']}; nhóm: {', '.join(u['groups']) or '—'})."]


def _render_audit(r: dict) -> list[str]:
    from datetime import datetime
    if not r["audit"]:
        return ["Nhật ký trống."]
    return [f"{datetime.fromtimestamp(a['at']).strftime('%Y-%m-%d %H:%M:%S')}  {a['actor']}  {a['action']}  "
            + json.dumps(a["detail"], ensure_ascii=False) for a in r["audit"]]


def serve(index_dir: str, host: str, port: int, workers: int = 1) -> None:
    """The REST API on uvicorn; every worker opens the index directory by itself (VANBAN_INDEX_DIR)."""
    import os

    import uvicorn
    os.environ["VANBAN_INDEX_DIR"] = str(Path(index_dir).resolve())
    settings()  # an unknown or bad VANBAN_ variable stops here, before the server starts
    # With several workers uvicorn's supervisor pings each one and replaces any that does not answer
    # within timeout_worker_healthcheck (5 s by default); a worker busy on a loaded machine (an ingest
    # running beside it) can miss that and be killed with its open requests: allow a minute. Idle
    # keep-alive connections stay open 75 s (uvicorn: 5 s), longer than a reverse proxy's (nginx: 60 s),
    # so the server never closes a connection a client or proxy is about to reuse.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", server_header=False, timeout_worker_healthcheck=60, timeout_keep_alive=75)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.index_dir = args.index_dir or settings().index_dir
        if args.command == "serve":
            serve(args.index_dir, args.host, args.port, args.workers)
            return EXIT_OK
        result = run(args)
    except VanbanError as e:
        option = _OPTIONS.get(e.field or "")
        where = f" ({option})" if option else ""
        print(f"Lỗi{where}: {e}" if e.exit_code != EXIT_OK else str(e), file=sys.stderr)
        return e.exit_code
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(render(args.command, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
