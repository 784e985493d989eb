"""Small documents written for tests (real layout, invented content)."""

# a công văn of Đắk Lắk citing Công văn 5500/UBND-KGVX of the sample corpus
CITING_5500 = """ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK

Số: 8888/UBND-KGVX
V/v tổng kết phong trào thi đua năm 2018

Đắk Lắk, ngày 5 tháng 12 năm 2018

Kính gửi: Các sở, ban, ngành.

1. Tổng kết việc thực hiện Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh về phong trào thi đua “Dân vận khéo”.

2. Gửi báo cáo về Sở Nội vụ trước ngày 20/12/2018.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Nguyễn Văn Thử
"""
