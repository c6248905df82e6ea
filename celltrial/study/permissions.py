"""Who may do what: the permission matrix as data (role × action), checked in one place.

Every service calls :func:`require` before it reads or changes study data. Site roles
(investigator, coordinator, cell-therapy lab) act only on their own site's subjects; a subject
of another site is reported *not found*, so its existence does not leak. Identifying data
(names, initials, dates of birth, medical record numbers) is shown only to the roles that need
it to care for the subject or to verify source documents (ICH E6(R3) 2.5; GDPR art. 5(1)(c)).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from celltrial.errors import NotAllowed, NotFound
from celltrial.study.users.models import SITE_ROLES, Role, User

__all__ = [
    "IDENTIFYING_FIELDS",
    "PERMISSIONS",
    "Action",
    "allowed",
    "require",
    "require_site",
    "visible_site_id",
]


class Action(StrEnum):
    """Everything a user can ask celltrial to do with study data."""

    SUBJECT_VIEW = "subject.view"
    SUBJECT_ENROL = "subject.enrol"
    SUBJECT_STATUS = "subject.status"
    SCREENING_CREATE = "screening.create"
    SCREENING_JUDGE = "screening.judge"
    CONSENT_RECORD = "consent.record"
    VISIT_SCHEDULE = "visit.schedule"
    FORM_VIEW = "form.view"
    FORM_EDIT = "form.edit"
    FORM_SIGN = "form.sign"
    FORM_VERIFY = "form.verify"
    QUERY_RAISE = "query.raise"
    QUERY_ANSWER = "query.answer"
    QUERY_CLOSE = "query.close"
    DATA_LOCK = "data.lock"
    DATA_UNLOCK = "data.unlock"
    AUDIT_VIEW = "audit.view"
    AUDIT_VERIFY = "audit.verify"
    USER_MANAGE = "user.manage"
    SITE_MANAGE = "site.manage"
    STUDY_MANAGE = "study.manage"
    EXPORT_RUN = "export.run"
    PRODUCT_VIEW = "product.view"
    PRODUCT_CUSTODY = "product.custody"
    PRODUCT_RELEASE = "product.release"
    PRODUCT_EXCEPTIONAL_RELEASE = "product.exceptional_release"
    SAFETY_REPORT = "safety.report"
    SAFETY_VIEW = "safety.view"
    SAFETY_ASSESS = "safety.assess"
    EFFICACY_VIEW = "efficacy.view"
    IDENTIFYING_DATA_VIEW = "identifying_data.view"


def _grant(names: str) -> frozenset[Action]:
    return frozenset(Action(name) for name in names.split())


PERMISSIONS: Mapping[Role, frozenset[Action]] = {
    Role.INVESTIGATOR: _grant(
        """subject.view subject.enrol subject.status screening.create screening.judge consent.record
        visit.schedule form.view form.edit form.sign query.answer audit.view product.view
        product.custody safety.report safety.view safety.assess identifying_data.view"""
    ),
    Role.COORDINATOR: _grant(
        """subject.view subject.enrol subject.status screening.create consent.record visit.schedule
        form.view form.edit query.answer product.view safety.report identifying_data.view"""
    ),
    Role.CELL_LAB: _grant(
        """subject.view form.view form.edit query.answer product.view product.custody product.release
        identifying_data.view"""
    ),
    Role.DATA_MANAGER: _grant(
        """subject.view form.view query.raise query.close data.lock data.unlock audit.view audit.verify
        export.run safety.view efficacy.view"""
    ),
    Role.MONITOR: _grant(
        """subject.view form.view form.verify query.raise query.close audit.view audit.verify
        product.view safety.view identifying_data.view"""
    ),
    Role.SPONSOR: _grant(
        """subject.view form.view study.manage export.run product.view product.exceptional_release
        safety.view safety.assess efficacy.view"""
    ),
    Role.DSMB: _grant("subject.view safety.view efficacy.view"),
    Role.ADMIN: _grant("user.manage site.manage audit.verify"),
}
"""The permission matrix: the actions each role may take (everything else is refused).

``safety.assess`` is a medical assessment of safety data: at a site, the investigator's
confirmation of the DLT evaluation (which also needs ``safety.report`` there); centrally, the
sponsor's expectedness assessment of an SAE and its SUSAR submission (ICH E2A). Which of the
two a holder may make follows from their scope (:func:`visible_site_id`), not from a role name.
``product.exceptional_release`` is the sponsor's documented approval to release a product lot
that is out of specification.
"""


IDENTIFYING_FIELDS = frozenset(
    {"initials", "date_of_birth", "name", "full_name", "medical_record_number", "address", "phone", "email"}
)
"""Subject fields that identify a person: hidden (also in the audit trail) from roles without
``identifying_data.view``."""


def allowed(user: User, action: Action) -> bool:
    """Whether ``user``'s role permits ``action`` (ignoring site and account state)."""
    return action in PERMISSIONS[Role(user.role)]


def require(
    user: User, action: Action, *, site_id: int | None = None, what: str = "subject", record_id: object = None
) -> None:
    """Refuse unless ``user`` is active, their role permits ``action`` and the data is at their site.

    ``site_id`` is the site of the data acted on; a site role asking for another site's data
    gets :class:`NotFound` (about ``what``), as if it did not exist.
    """
    if user.disabled or user.locked:
        state = "disabled" if user.disabled else "locked"
        raise NotAllowed(f"the account {user.username!r} is {state}", field="user")
    if not allowed(user, action):
        raise NotAllowed(f"the role {user.role} may not {action} (user {user.username!r})", field="role")
    if site_id is not None:
        require_site(user, site_id, what=what, record_id=record_id)


def require_site(user: User, site_id: int, *, what: str = "subject", record_id: object = None) -> None:
    """Report a record of another site as not found to a site role; central roles see every site.

    With ``record_id`` the answer is word for word the one for an id that does not exist, so that
    guessing ids tells a site user nothing about other sites' records.
    """
    if Role(user.role) in SITE_ROLES and user.site_id != site_id:
        message = f"no such {what}" if record_id is None else f"no {what} with id {record_id}"
        raise NotFound(message, field=what)


def visible_site_id(user: User) -> int | None:
    """The only site whose subjects ``user`` may list, or None when they see every site."""
    return user.site_id if Role(user.role) in SITE_ROLES else None
