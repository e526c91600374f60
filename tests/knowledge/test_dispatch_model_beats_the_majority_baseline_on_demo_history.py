"""The dispatch model, trained on the demo city's history (``hotline.cases.demo_data``
walks every ticket through the real lifecycle), suggests the lead department of
held-out tickets far better than always suggesting the busiest department; and
``hotline train-dispatch`` writes a model the API then serves."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from hotline.cases import demo_data
from hotline.knowledge import dispatch
from tests.conftest import MONDAY


def test_held_out_accuracy_beats_the_majority_baseline_by_a_wide_margin(dictionary, settings, tmp_path, api_as):
    settings.DATA_DIR = tmp_path
    demo = demo_data.build_demo(400, now=MONDAY)
    examples = dispatch.load_examples()
    assert len(examples) > 200
    train, test = dispatch.split(examples, 0.25)
    model = dispatch.fit_model(train, now=MONDAY)
    got = dispatch.evaluate(model, test)
    baseline = dispatch.majority_baseline(train, test)
    print(f"held-out {got} vs majority baseline {baseline}")
    assert got["top1"] >= baseline["top1"] + 0.4
    assert got["top3"] >= 0.85 and got["top3"] >= baseline["top3"] + 0.4
    assert got["category_top1"] >= 0.9

    # The fast scorer the web uses gives scikit-learn's own answers.
    for ex in test:
        fast, reference = model.rank(ex.text), model.rank_reference(ex.text)
        for mine, theirs in zip(fast, reference, strict=True):
            assert [r.id for r in mine] == [r.id for r in theirs]
            assert [r.confidence for r in mine] == pytest.approx([r.confidence for r in theirs], abs=1e-3)

    # The command trains on everything and writes the file the web serves.
    call_command("train_dispatch", "--holdout", "0.2")
    assert dispatch.model_path().exists()
    dispatch.models.invalidate()
    desk = api_as(demo["city"].users["calltaker"])
    r = desk.post("/knowledge/dispatch/suggest", {
        "summary": "楼道里燃气味很重", "content": "来电人反映家里楼道内有明显燃气味，担心泄漏，请尽快派人检查。", "district": "dongcheng"})
    assert r.status_code == 200, r.json_body
    s = r.json_body
    assert s["source"] == "model" and s["model_version"]
    assert s["departments"][0]["name"] == "市燃气集团"
    assert s["categories"][0]["code"] == "gas.leak"
    confidences = [d["confidence"] for d in s["departments"]]
    assert confidences == sorted(confidences, reverse=True) and 0 < confidences[0] <= 1
