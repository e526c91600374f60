"""Moving a department (PATCH parent) rewrites ``path``/``depth`` of its whole subtree
in one transaction, and department users' data scope — a path prefix — follows: a
ticket of the moved street becomes visible to the new district and invisible to the
old one."""

from __future__ import annotations

from hotline.accounts.models import Role
from hotline.cases import actions as case_actions
from hotline.directory.models import Department
from tests.conftest import MONDAY, People, Tree, make_department, make_user, ticket_input


def test_a_moved_street_takes_its_communities_and_tickets_to_the_new_district(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    grandchild = make_department("donghua-c1-g1", "东华社区第一网格", "community", tree.donghua_community)
    dongcheng_user = make_user("dongcheng_handler", Role.DEPT_HANDLER, tree.dongcheng)
    ticket = case_actions.do_create_ticket(people.call_taker, ticket_input(), now=MONDAY)
    case_actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua_community.pk, now=MONDAY)

    assert api_as(dongcheng_user).get(f"/tickets/{ticket.pk}").status_code == 200
    assert api_as(people.west_handler).get(f"/tickets/{ticket.pk}").status_code == 404

    r = api_as(people.admin).patch(f"/directory/departments/{tree.donghua.pk}", {"parent": "xicheng"})
    assert r.status_code == 200, r.json_body
    assert r.json_body["parent_id"] == tree.xicheng.pk

    donghua, community, g1 = (Department.objects.get(pk=d.pk) for d in (tree.donghua, tree.donghua_community, grandchild))
    assert donghua.path == f"{tree.xicheng.path}{donghua.pk:06d}."
    assert community.path == f"{donghua.path}{community.pk:06d}."
    assert g1.path == f"{community.path}{g1.pk:06d}."
    assert (donghua.depth, community.depth, g1.depth) == (2, 3, 4)
    # Nothing else moved.
    assert Department.objects.get(pk=tree.dongcheng.pk).path == tree.dongcheng.path
    assert Department.objects.get(pk=tree.water.pk).path == tree.water.path

    assert api_as(people.west_handler).get(f"/tickets/{ticket.pk}").status_code == 200
    assert api_as(dongcheng_user).get(f"/tickets/{ticket.pk}").status_code == 404
    # The street's own users keep their tickets.
    assert api_as(people.handler).get(f"/tickets/{ticket.pk}").status_code == 200


def test_a_department_moves_up_to_the_root_and_down_two_levels(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    admin = api_as(people.admin)
    r = admin.patch(f"/directory/departments/{tree.dongcheng.pk}", {"parent": None})
    assert r.status_code == 200, r.json_body
    dongcheng = Department.objects.get(pk=tree.dongcheng.pk)
    assert dongcheng.path == f"{dongcheng.pk:06d}." and dongcheng.depth == 0 and dongcheng.parent_id is None
    community = Department.objects.get(pk=tree.donghua_community.pk)
    assert community.path.startswith(dongcheng.path) and community.depth == 2

    r = admin.patch(f"/directory/departments/{tree.dongcheng.pk}", {"parent": tree.water.pk})
    assert r.status_code == 200, r.json_body
    community = Department.objects.get(pk=tree.donghua_community.pk)
    assert community.path == f"{tree.water.path}{tree.dongcheng.pk:06d}.{tree.donghua.pk:06d}.{community.pk:06d}."
    assert community.depth == 4


def test_the_tree_endpoint_nests_children_under_their_parents(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    r = api_as(people.handler).get("/directory/departments/tree")
    assert r.status_code == 200
    (city,) = r.json_body
    assert city["code"] == "city"
    assert {c["code"] for c in city["children"]} == {"dongcheng", "water", "xicheng"}
    dongcheng = next(c for c in city["children"] if c["code"] == "dongcheng")
    assert [c["code"] for c in dongcheng["children"]] == ["donghua"]
    assert [c["code"] for c in dongcheng["children"][0]["children"]] == ["donghua-c1"]
    flat = api_as(people.call_taker).get("/directory/departments", {"under": tree.dongcheng.pk}).json_body
    assert [d["code"] for d in flat] == ["dongcheng", "donghua", "donghua-c1"]
