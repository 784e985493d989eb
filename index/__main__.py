"""python -m index COMMAND --index-dir DIR [--json]

Commands:
  ask "câu hỏi" [--k N]             answer with the documents, passages and answering sentence
  cites "tham chiếu"                every document citing a reference, with the quote as written
  search "truy vấn" [--k N] [--mode hybrid|bm25|dense] [--province P] [--year-from Y] [--year-to Y] [--type T]
  docs                              the documents in the index
  stats                             counts, embedder, index kind, generation
"""
from __future__ import annotations

import argparse
import json
import sys

from ingest.pipeline import default_index_dir


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", default=str(default_index_dir()), help="thư mục chỉ mục (mặc định .index)")
    common.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--province", help="lọc theo tỉnh/thành (có hoặc không dấu)")
    filters.add_argument("--year-from", type=int, help="từ năm")
    filters.add_argument("--year-to", type=int, help="đến năm")
    filters.add_argument("--type", dest="doc_type", help="loại văn bản, ví dụ 'Công văn'")
    filters.add_argument("--issuer", help="cơ quan ban hành")

    p = argparse.ArgumentParser(prog="python -m index", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("ask", parents=[common, filters], help="hỏi và nhận câu trả lời có trích dẫn")
    a.add_argument("question")
    a.add_argument("--k", type=int, default=5)
    c = sub.add_parser("cites", parents=[common, filters], help="văn bản nào trích dẫn một văn bản")
    c.add_argument("reference")
    s = sub.add_parser("search", parents=[common, filters], help="tìm đoạn văn bản")
    s.add_argument("query")
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    sub.add_parser("docs", parents=[common], help="danh sách văn bản")
    sub.add_parser("stats", parents=[common], help="thống kê chỉ mục")
    return p


def _filters(args):
    from ingest.metadata import find_province
    from .search import Filters
    province = getattr(args, "province", None)
    if province:
        resolved = find_province(province)
        if resolved is None:
            raise SystemExit(f"không nhận ra tỉnh/thành “{province}”")
        province = resolved
    return Filters(province=province, year_from=getattr(args, "year_from", None),
                   year_to=getattr(args, "year_to", None), doc_type=getattr(args, "doc_type", None),
                   issuer=getattr(args, "issuer", None))


def run(args) -> dict:
    """The command's result as a dict (the same dict --json prints)."""
    from .qa import ask, cites
    from .search import open_searcher
    s = open_searcher(args.index_dir)
    if args.command == "ask":
        return ask(s, args.question, k=args.k, filters=_filters(args))
    if args.command == "cites":
        return cites(s, args.reference, filters=_filters(args))
    if args.command == "search":
        return s.search(args.query, k=args.k, mode=args.mode, filters=_filters(args))
    if args.command == "docs":
        return s.docs()
    return s.stats()


def _doc_line(d: dict) -> str:
    from .qa import format_citation
    return f"{format_citation(d)}" + (f" — {d['title']}" if d.get("title") else "")


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
    else:
        labels = {"documents": "Văn bản", "passages": "Đoạn", "references": "Trích dẫn", "files": "Tệp",
                  "failed": "Tệp lỗi", "embedder": "Bộ nhúng", "dimension": "Số chiều",
                  "index_kind": "Loại chỉ mục", "generation": "Thế hệ", "built_at": "Dựng lúc",
                  "index_dir": "Thư mục"}
        lines += [f"{labels.get(k, k)}: {v}" for k, v in r.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .embed import EmbedderError
    from .store import StoreError
    try:
        result = run(args)
    except (StoreError, EmbedderError) as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(render(args.command, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
