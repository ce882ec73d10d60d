"""ICT絆's education track is a target share of about one third, not a separate pot: the ranking
shows one list over the budget, the share reached, and the line as a reserved pot beside it."""

from __future__ import annotations

import csv
import io
import re

from grants.domain.workflow import Role
from grants.services.reviewing import rubric_version_for
from tests.web.reviewflow import KEY, clone_in_review, review_all, rubric_for, submit_application


def test_ranking_shows_the_target_share_beside_the_reserved_line(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    reviewers = [make_user(Role.REVIEWER)]
    review_all(session, clone_in_review(session, template, 3), reviewers,
               rubric_version_for(session, template).id, rubric_for(session, template))
    auth.sign_in(make_user(Role.OFFICER))

    page = client.get(f"/manage/calls/{KEY}/ranking")

    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "目標比率" in text
    assert "想定する予算比率：1/3 (33.3%)" in text
    # Every application here is in the general track: none of the money above the line is education.
    assert "採択の線より上の配分額に占める比率：0.0%（¥0）" in text
    assert "別枠とした場合</th>" in text
    # One list over the budget: no heading of its own for the education pot.
    assert text.count('<section aria-labelledby="group-') == 1
    # As a reserved pot, the education share is a group of its own with a third of the budget.
    assert "② 教育情報化事業案件: 0件が予算内（¥3,333,333,333のうち¥0）" in text

    exported = client.get(f"/manage/calls/{KEY}/ranking.csv").data.decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(exported))
    column = header.index("別枠とした場合の予算内")
    assert [row[column] for row in rows] == [row[header.index("予算内")] for row in rows]
    assert len({row[column] for row in rows}) == 2  # the knockout (0.00) is not within
