"""What every command line of the project shares: a Vietnamese argparse, exit codes and numeric options.

    parser = ArgumentParser(prog="python -m index", description=...)
    parser.add_argument("--k", type=int_option("--k", 1, 100))

Exit codes are defined once (``index.errors``) and listed at the end of every command's --help
(``EXIT_CODES_HELP``). argparse's own English messages are translated; a usage error exits 2.
"""
from __future__ import annotations

import argparse
import re
import sys

from .errors import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE

__all__ = ["ArgumentParser", "EXIT_CODES_HELP", "int_option"]

EXIT_CODES_HELP = (f"Mã thoát: {EXIT_OK} xong (kể cả khi không có kết quả); "
                   f"{EXIT_UNAVAILABLE} chỉ mục hoặc máy tìm kiếm không dùng được; "
                   f"{EXIT_USAGE} sai cách dùng (tham số sai, không có quyền).")

# argparse's messages (Python 3.11-3.13) and their Vietnamese
_MESSAGES = [
    (r"the following arguments are required: (.+)", r"thiếu tham số bắt buộc: \1"),
    (r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", r"\1: giá trị \2 không hợp lệ; chọn một trong: \3"),
    (r"argument (\S+): invalid (\w+) value: (.+)", r"\1: \3 không phải giá trị \2 hợp lệ"),
    (r"argument (\S+): expected one argument", r"\1 cần một giá trị"),
    (r"argument (\S+): expected at least one argument", r"\1 cần ít nhất một giá trị"),
    (r"argument (\S+): expected at most one argument", r"\1 nhận nhiều nhất một giá trị"),
    (r"argument (\S+): not allowed with argument (\S+)", r"\1 không dùng cùng \2"),
    (r"argument (\S+): (.+)", r"\1: \2"),
    (r"unrecognized arguments: (.+)", r"tham số không nhận ra: \1"),
    (r"ambiguous option: (\S+) could match (.+)", r"tùy chọn \1 không rõ, có thể là: \2"),
    (r"one of the arguments (.+) is required", r"cần một trong các tham số: \1"),
]


def _vietnamese(message: str) -> str:
    for pattern, repl in _MESSAGES:
        if re.fullmatch(pattern, message, flags=re.S):
            return re.sub(pattern, repl, message, count=1, flags=re.S)
    return message


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="Cách dùng: " if prefix is None else prefix)


class ArgumentParser(argparse.ArgumentParser):
    """argparse in Vietnamese: headings, -h, error messages; exit codes at the end of --help."""

    def __init__(self, *args, epilog: str | None = None, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, epilog="\n\n".join(x for x in (epilog, EXIT_CODES_HELP) if x), **kwargs)
        self._positionals.title = "tham số"
        self._optionals.title = "tùy chọn"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="hiện hướng dẫn này rồi thoát")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"Lỗi: {_vietnamese(message)}\n")


def int_option(option: str, low: int | None = None, high: int | None = None):
    """An argparse type: an integer (in [low, high] when given), else a usage error naming the option."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"“{text}” không phải số nguyên") from None
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"từ {low} đến {high}" if low is not None and high is not None else (
                f"từ {low} trở lên" if low is not None else f"tối đa {high}")
            raise argparse.ArgumentTypeError(f"{value} không hợp lệ: phải là số nguyên {span}")
        return value
    parse.__name__ = "số nguyên"
    return parse
