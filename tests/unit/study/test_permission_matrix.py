"""The permission matrix, walked completely: every role × every action, allow or deny.

The expected grid below is written from issue 5's roles, not read from the code:
site staff (investigator, coordinator, cell-therapy lab) work on their own site's subjects and
see identifying data; the investigator alone judges eligibility and signs; monitors verify
source data and raise/close queries; data managers raise/close queries, lock and export;
sponsor and DSMB see pseudonymised data only; the investigator (at the site) and the sponsor
(centrally) make safety assessments; the sponsor alone approves an exceptional product release;
the administrator manages users and sites and never study data.
"""

from __future__ import annotations

import pytest

from celltrial.errors import NotAllowed, NotFound
from celltrial.study.permissions import PERMISSIONS, Action, allowed, require, require_site, visible_site_id
from celltrial.study.users.models import Role, User

ROLES = ["investigator", "coordinator", "cell_lab", "data_manager", "monitor", "sponsor", "dsmb", "admin"]
#                          inv  coo  lab  dm   mon  spo  dsmb adm
GRID = """
subject.view               Y    Y    Y    Y    Y    Y    Y    .
subject.enrol              Y    Y    .    .    .    .    .    .
subject.status             Y    Y    .    .    .    .    .    .
screening.create           Y    Y    .    .    .    .    .    .
screening.judge            Y    .    .    .    .    .    .    .
consent.record             Y    Y    .    .    .    .    .    .
visit.schedule             Y    Y    .    .    .    .    .    .
form.view                  Y    Y    Y    Y    Y    Y    .    .
form.edit                  Y    Y    Y    .    .    .    .    .
form.sign                  Y    .    .    .    .    .    .    .
form.verify                .    .    .    .    Y    .    .    .
query.raise                .    .    .    Y    Y    .    .    .
query.answer               Y    Y    Y    .    .    .    .    .
query.close                .    .    .    Y    Y    .    .    .
data.lock                  .    .    .    Y    .    .    .    .
data.unlock                .    .    .    Y    .    .    .    .
audit.view                 Y    .    .    Y    Y    .    .    .
audit.verify               .    .    .    Y    Y    .    .    Y
user.manage                .    .    .    .    .    .    .    Y
site.manage                .    .    .    .    .    .    .    Y
study.manage               .    .    .    .    .    Y    .    .
export.run                 .    .    .    Y    .    Y    .    .
product.view               Y    Y    Y    .    Y    Y    .    .
product.custody            Y    .    Y    .    .    .    .    .
product.release            .    .    Y    .    .    .    .    .
product.exceptional_release .   .    .    .    .    Y    .    .
safety.report              Y    Y    .    .    .    .    .    .
safety.view                Y    .    .    Y    Y    Y    Y    .
safety.assess              Y    .    .    .    .    Y    .    .
efficacy.view              .    .    .    Y    .    Y    Y    .
identifying_data.view      Y    Y    Y    .    Y    .    .    .
"""


def _expected() -> dict[tuple[str, str], bool]:
    cells: dict[tuple[str, str], bool] = {}
    for line in GRID.strip().splitlines():
        action, *marks = line.split()
        assert len(marks) == len(ROLES), line
        for role, mark in zip(ROLES, marks, strict=True):
            cells[(role, action)] = mark == "Y"
    return cells


EXPECTED = _expected()
CASES = [
    pytest.param(role, action, allow, id=f"{role}-{action}") for (role, action), allow in EXPECTED.items()
]


def _user(role: str, site_id: int | None = 1, **state: bool) -> User:
    return User(
        username=f"{role}-user",
        full_name="Test User",
        role=Role(role),
        site_id=site_id if Role(role) in {Role.INVESTIGATOR, Role.COORDINATOR, Role.CELL_LAB} else None,
        locked=state.get("locked", False),
        disabled=state.get("disabled", False),
    )


def test_the_grid_names_every_action_and_every_role_exactly_once() -> None:
    assert {action for _, action in EXPECTED} == {a.value for a in Action}
    assert set(ROLES) == {r.value for r in Role} == {r.value for r in PERMISSIONS}


@pytest.mark.parametrize(("role", "action", "allow"), CASES)
def test_each_role_may_do_exactly_what_the_grid_says(role: str, action: str, allow: bool) -> None:
    user = _user(role)
    assert allowed(user, Action(action)) is allow
    if allow:
        require(user, Action(action))
    else:
        with pytest.raises(NotAllowed) as refused:
            require(user, Action(action))
        assert action in refused.value.message
        assert role in refused.value.message


@pytest.mark.parametrize("role", ["investigator", "coordinator", "cell_lab"])
def test_site_staff_see_another_sites_subject_as_not_found(role: str) -> None:
    user = _user(role, site_id=1)
    require(user, Action.SUBJECT_VIEW, site_id=1)
    with pytest.raises(NotFound):
        require(user, Action.SUBJECT_VIEW, site_id=2)
    with pytest.raises(NotFound):
        require_site(user, 2)
    assert visible_site_id(user) == 1


@pytest.mark.parametrize("role", ["data_manager", "monitor", "sponsor", "dsmb"])
def test_central_roles_see_every_site(role: str) -> None:
    user = _user(role)
    for site_id in (1, 2, 3):
        require(user, Action.SUBJECT_VIEW, site_id=site_id)
    assert visible_site_id(user) is None


def test_a_refused_action_is_not_allowed_even_at_another_site() -> None:
    with pytest.raises(NotAllowed):
        require(_user("coordinator", site_id=1), Action.FORM_SIGN, site_id=2)


@pytest.mark.parametrize("state", ["locked", "disabled"])
def test_a_locked_or_disabled_account_may_do_nothing(state: str) -> None:
    user = _user("investigator", **{state: True})
    for action in Action:
        with pytest.raises(NotAllowed, match=state):
            require(user, action, site_id=1)


def test_sponsor_and_dsmb_never_see_identifying_data() -> None:
    for role in ("sponsor", "dsmb", "data_manager", "admin"):
        assert not allowed(_user(role), Action.IDENTIFYING_DATA_VIEW)
