"""Passages follow the document's structure and quote the source exactly."""
from pathlib import Path

from ingest.chunking import MAX_CHARS, chunk
from ingest.model import SourceText
from ingest.normalize import clean

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _chunks(name: str):
    text = (CORPUS / name).read_text(encoding="utf-8")
    return text, chunk(SourceText(name, text), clean(text))


def test_every_passage_quotes_the_original_text_exactly():
    for path in CORPUS.iterdir():
        text, passages = _chunks(path.name)
        for p in passages:
            assert p.text == text[p.start:p.end]
            assert p.clean.strip() and p.tokens.strip()


def test_numbered_items_become_labelled_passages():
    _, passages = _chunks("daknong_2071-UBND-NC_2022.txt")
    labels = [p.label for p in passages if p.label]
    assert labels[0] == "mục 1" and "mục 5" in labels
    item5 = next(p for p in passages if p.label == "mục 5")
    assert item5.clean.startswith("5. Giao Sở Nội vụ theo dõi")


def test_no_passage_is_longer_than_the_window():
    for path in CORPUS.iterdir():
        _, passages = _chunks(path.name)
        assert all(len(p.clean) <= MAX_CHARS for p in passages)


def test_a_long_item_is_split_and_keeps_its_label():
    _, passages = _chunks("daknong_2071-UBND-NC_2022.txt")
    parts = [p for p in passages if p.label == "mục 2"]
    assert len(parts) >= 2
    assert parts[0].clean.startswith("2. Thường xuyên")


def test_a_line_broken_across_a_page_is_joined_for_analysis():
    _, passages = _chunks("daknong_2071-UBND-NC_2022.txt")
    item3 = next(p for p in passages if p.label == "mục 3")
    assert "Khoản 6 Điều 14 của Quy chế số 18-QC/TU" in item3.clean
    assert "Quy chế số\n\n18-QC/TU" in item3.text  # the quote stays as the source has it


def test_passages_are_word_segmented_for_lexical_search():
    _, passages = _chunks("daklak_5500-UBND-KGVX_2017.txt")
    assert any("dân_vận" in p.tokens.lower() for p in passages)


def test_pdf_pages_are_kept_per_passage():
    text = "1. Nội dung trang một về dân vận.\n\n2. Nội dung trang hai về cải cách hành chính."
    page2 = text.index("2. Nội")
    passages = chunk(SourceText("x.pdf", text, page_starts=[0, page2]), clean(text))
    assert [p.page for p in passages] == [1, 2]
