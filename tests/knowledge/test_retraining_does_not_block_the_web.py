"""Retraining runs beside the web (in production in the worker process; here in a
thread of the same process, the harder case: it shares the GIL). While it runs,
suggestion and search requests keep being answered from the previous model; once
the new file is atomically in place the web serves it without a restart."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from hotline.accounts.models import Role
from hotline.knowledge import dispatch
from tests.conftest import MONDAY, make_user
from tests.knowledge._history import write_history

APPEAL = {"summary": "小区停水两天", "content": "来电人反映小区停水两天未恢复，也没有通知。", "district": "dongcheng"}


@pytest.mark.django_db(transaction=True)
def test_requests_are_answered_while_the_model_retrains(dictionary, settings, tmp_path, api_as, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(dispatch, "RELOAD_CHECK_SECONDS", 0.0)  # look for a new file on every request
    write_history(300, seed=1)
    first = dispatch.train(now=MONDAY, holdout=0)
    assert first is not None
    write_history(6000, seed=2)  # a bigger history: the retraining takes a while
    desk = api_as(make_user("desk", Role.CALL_TAKER))
    assert desk.post("/knowledge/dispatch/suggest", APPEAL).json_body["model_version"] == first.version

    done: dict[str, object] = {}

    def retrain() -> None:
        try:
            done["model"] = dispatch.train(now=MONDAY.replace(hour=23), holdout=0)
        finally:
            connection.close()

    worker = threading.Thread(target=retrain)
    worker.start()
    served_during: list[tuple[float, str]] = []
    while worker.is_alive():
        t0 = time.monotonic()
        r = desk.post("/knowledge/dispatch/suggest", APPEAL)
        elapsed = time.monotonic() - t0
        assert r.status_code == 200
        if worker.is_alive():
            served_during.append((elapsed, r.json_body["model_version"]))
    worker.join()
    new = done["model"]
    assert new is not None and new.version != first.version
    print(f"{len(served_during)} requests during retraining; slowest {max(e for e, _ in served_during):.3f} s")
    assert len(served_during) >= 5, "the web must keep answering while the model trains"
    assert max(e for e, _ in served_during) < 2.0
    assert all(v == first.version for _, v in served_during[:-1])  # the old model until the new file is in place
    assert desk.post("/knowledge/dispatch/suggest", APPEAL).json_body["model_version"] == new.version
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["dispatch.joblib"]  # no temporary files left
