"""Documents and accounts the app tests (AppTest and browser) share: a restricted directive with words of
its own, a hostile directive full of markdown links and images, and three accounts."""
from __future__ import annotations

from pathlib import Path

ADMIN = ("quantri", "mat-khau-quan-tri")                 # administrator
INSIDER = ("docgia-vp", "mat-khau-doc-gia-vp")            # reader in GROUP
OUTSIDER = ("docgia-so", "mat-khau-doc-gia-so")           # reader in another group
GROUP = "noi-bo-vp"

SECRET_PHRASE = "phương án sơ tán kho lưu trữ tuyệt mật Hòn Khoai"
SECRET_NUMBER = "4321/UBND-VP"
RESTRICTED_DOC = f"""ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK

Số: {SECRET_NUMBER}
V/v {SECRET_PHRASE}

Đắk Lắk, ngày 6 tháng 5 năm 2024

Kính gửi: Văn phòng UBND tỉnh.

1. Giao Văn phòng UBND tỉnh chủ trì xây dựng {SECRET_PHRASE}, báo cáo trước ngày 20/6/2024.

2. Thực hiện Chỉ thị số 16/CT-TTg của Thủ tướng Chính phủ trong công tác bảo vệ bí mật.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Trần Văn Kín
"""

HOSTILE_WORDS = "thỏ ngọc kỳ lân"
HOSTILE_NUMBER = "6666/UBND-KGVX"


def hostile_doc(beacon: str) -> str:
    """A directive whose title, addressees, items, signer's title and closing lines carry markdown images
    and links to ``beacon`` (and raw HTML, a bare URL, "www." and an e-mail address); it cites Chỉ thị 16
    (network, comparison), sets a deadline (tasks) and shares words with the corpus (similar)."""
    return f"""ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK

Số: {HOSTILE_NUMBER}
V/v thử nghiệm ![x]({beacon}/tieu-de.png) [Đăng nhập]({beacon}/dang-nhap) <img src="{beacon}/html.png"> {beacon}/tran

Đắk Lắk, ngày 2 tháng 4 năm 2024

Kính gửi: Sở Nội vụ ![r]({beacon}/noi-nhan.png); [Cổng]({beacon}/cong); www.beacon.invalid; lienhe@beacon.invalid.

Thực hiện Chỉ thị số 16/CT-TTg của Thủ tướng Chính phủ về tăng cường và đổi mới công tác dân vận, Ủy ban nhân dân tỉnh yêu cầu:

1. Giao Sở Nội vụ chủ trì rà soát mô hình {HOSTILE_WORDS} ![y]({beacon}/muc-1.png) [Phiên làm việc hết hạn, đăng nhập lại]({beacon}/phish) trong phong trào thi đua dân vận khéo, báo cáo trước ngày 15/7/2024.

2. Tuyên truyền, phổ biến mô hình {HOSTILE_WORDS} :material/home: :smile: ![z]({beacon}/muc-2.png)

[Tải về]({beacon}/tai-ve)

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH ![s]({beacon}/chuc-vu.png)

Nguyễn Văn Thử
"""


def add_accounts(index_dir: str | Path) -> None:
    """The three accounts, made the way ``python -m index users add`` makes them."""
    from index.access import SYSTEM
    from index.library import Library
    lib = Library(index_dir)
    try:
        lib.add_user(SYSTEM, ADMIN[0], "admin", password=ADMIN[1])
        lib.add_user(SYSTEM, INSIDER[0], "reader", groups=[GROUP], password=INSIDER[1])
        lib.add_user(SYSTEM, OUTSIDER[0], "reader", groups=["phong-khac"], password=OUTSIDER[1])
    finally:
        lib.close()
