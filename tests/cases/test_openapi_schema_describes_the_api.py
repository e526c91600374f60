"""The OpenAPI 3 schema is served and describes every ticket action."""

from __future__ import annotations

from django.test import Client

from hotline.cases import lifecycle


def test_openapi_json_is_served_and_lists_the_actions(db: object) -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ("/api/tickets", "/api/tickets/{ref}", "/api/tickets/{ref}/timeline", "/api/tickets/{ref}/dispatch",
                 "/api/tickets/{ref}/sign-for", "/api/tickets/{ref}/extension/approve", "/api/tickets/export.xlsx",
                 "/api/tickets/import", "/api/auth/token", "/api/audit"):
        assert path in paths, path
    # One endpoint per lifecycle action (actions with their own creation path aside).
    summaries = " ".join(op.get("summary", "") for item in paths.values() for op in item.values())
    for name, transition in lifecycle.TRANSITIONS.items():
        if name in {"register", "update", "attach", "import_closed"}:
            continue
        assert str(transition.label).split("/")[0][:2] in summaries, name
