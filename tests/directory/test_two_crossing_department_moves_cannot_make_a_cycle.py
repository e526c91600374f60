"""Two administrators at the same moment: one moves 东城区 under 西城区, the other 西城区
under 东城区. Each alone is legal; together they would make a cycle. Exactly one wins,
the other gets 422 parent/cycle, and every path still starts at the root. Real
threads, real database connections (SQLite serialises writers; on PostgreSQL the moves
queue on the root rows' locks)."""

from __future__ import annotations

import pytest

from hotline.directory import actions
from hotline.directory.models import Department
from hotline.lib.errors import InvalidInput
from tests.conftest import People, Tree, run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_crossing_moves_one_wins_one_is_told_cycle(people: People, tree: Tree) -> None:
    for _ in range(3):
        results = run_together([
            lambda: actions.do_update_department(people.admin, tree.dongcheng.pk, {"parent": tree.xicheng.pk}),
            lambda: actions.do_update_department(people.admin, tree.xicheng.pk, {"parent": tree.dongcheng.pk}),
        ])
        winners = [r for r in results if isinstance(r, Department)]
        losers = [r for r in results if isinstance(r, InvalidInput)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].errors[0]["rule"] == "cycle"
        for d in Department.objects.all():
            parent = Department.objects.filter(pk=d.parent_id).first()
            assert d.path == (parent.path if parent else "") + f"{d.pk:06d}." and d.path.startswith(tree.city.path)
        # Put both back under the city for the next round.
        for dept in (tree.dongcheng, tree.xicheng):
            actions.do_update_department(people.admin, dept.pk, {"parent": tree.city.pk})
