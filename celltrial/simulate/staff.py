"""Set up the simulated trial: sites, staff, the study registered, ICF approved, recruitment opened.

Everything goes through the services, as the administrator (at the console) and the sponsor
would do it: sites and accounts by the administrator, the study, its ICF and its status by the
sponsor. The principal investigator, coordinator and cell-therapy lab of the first site are the
demo accounts (:mod:`celltrial.simulate.demo_users`); the others are their simulated colleagues,
with the same password.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from celltrial.simulate.demo_users import DEMO_PASSWORD, create_demo_users
from celltrial.simulate.scenario import Scenario
from celltrial.simulate.world import SiteStaff, Staff
from celltrial.study.consent import service as consents
from celltrial.study.sites import service as sites
from celltrial.study.trial import service as trials
from celltrial.study.users import service as users
from celltrial.study.users.models import Role, User

__all__ = ["OPERATOR", "register_study", "set_up_staff"]

OPERATOR = "simulator"
"""The console operator's name in the audit trail of a simulated trial."""

_COLLEAGUES = {
    "investigator": (Role.INVESTIGATOR, "Dr Wang Fang"),
    "subinvestigator": (Role.INVESTIGATOR, "Dr Liu Yang"),
    "coordinator": (Role.COORDINATOR, "Huang Li"),
    "lab": (Role.CELL_LAB, "Lin Tao"),
    "lab2": (Role.CELL_LAB, "Guo Xin"),
}
_FIRST_SITE_COLLEAGUES = {
    "subinvestigator": (Role.INVESTIGATOR, "Dr Yang Jun"),
    "lab2": (Role.CELL_LAB, "He Mei"),
}


def _colleague(session: Session, *, site_code: str, key: str, role: Role, name: str, site_id: int) -> User:
    return users.create(
        session,
        username=f"{site_code.lower()}.{key}",
        full_name=name,
        role=role,
        password=DEMO_PASSWORD,
        site_id=site_id,
        by=users.operator(OPERATOR),
    )


def set_up_staff(session: Session, scenario: Scenario) -> Staff:
    """The scenario's sites and everyone working on the trial."""
    admin = users.operator(OPERATOR)
    made = {
        site.code: sites.create(session, code=site.code, name=site.name, country=site.country, by=admin)
        for site in scenario.study.sites
    }
    first = scenario.study.sites[0].code
    demo = create_demo_users(session, site_id=made[first].id, by=admin)
    teams: dict[str, SiteStaff] = {}
    for code, site in made.items():
        if code == first:
            people = {
                "investigator": demo[Role.INVESTIGATOR],
                "coordinator": demo[Role.COORDINATOR],
                "lab": demo[Role.CELL_LAB],
            } | {
                key: _colleague(session, site_code=code, key=key, role=role, name=name, site_id=site.id)
                for key, (role, name) in _FIRST_SITE_COLLEAGUES.items()
            }
        else:
            people = {
                key: _colleague(session, site_code=code, key=key, role=role, name=name, site_id=site.id)
                for key, (role, name) in _COLLEAGUES.items()
            }
        teams[code] = SiteStaff(site_id=site.id, code=code, **people)
    return Staff(
        sites=teams,
        sponsor=demo[Role.SPONSOR],
        data_manager=demo[Role.DATA_MANAGER],
        monitor=demo[Role.MONITOR],
        password=DEMO_PASSWORD,
    )


def register_study(session: Session, scenario: Scenario, staff: Staff) -> int:
    """Register the study, approve ICF 1.0 and open recruitment; the study's id."""
    trial = trials.register(session, nct_id=scenario.study.nct_id, by=staff.sponsor)
    consents.approve_icf_version(
        session,
        study_id=trial.id,
        version="1.0",
        approved_on=scenario.study.icf_approved_on.value,
        by=staff.sponsor,
        summary="first version approved by the ethics committee",
    )
    if str(trial.status) != "RECRUITING":
        trials.change_status(
            session,
            study_id=trial.id,
            status="RECRUITING",
            reason=f"sites initiated; first patient may be screened from {scenario.study.start.value}",
            by=staff.sponsor,
        )
    return trial.id
