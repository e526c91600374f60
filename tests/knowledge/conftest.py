"""Knowledge tests share the process-wide vocabulary (jieba + synonyms): make each
test see the words of its own database, not those a previous test added."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.knowledge import dispatch
from hotline.knowledge.search import PostgresEngine, SearchEngine, vocabulary


@pytest.fixture(autouse=True)
def _fresh_vocabulary(db: Any) -> Any:
    vocabulary.invalidate()
    SearchEngine._df.clear()  # document frequencies of another test's database
    PostgresEngine._stats.clear()
    dispatch.rules.invalidate()  # routing rules of another test's database
    yield
    vocabulary.invalidate()
