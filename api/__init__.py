"""The REST API (FastAPI on uvicorn) over ``index.library``: ``python -m index serve``; see ``api.app``."""
