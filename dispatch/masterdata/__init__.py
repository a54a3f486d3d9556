"""Master-data services of dispatch: engineers, sites, contracts and promise policies.

Each function is one change an administrator makes. It checks every rule first and
raises `ValidationFailed` listing each broken one (so a refused change writes
nothing), then writes and only flushes: the caller's transaction commits.
Updates take the changed fields only and check the merged result.
"""

from dispatch.masterdata.availability import (
    AbsenceChanges,
    add_absence,
    add_shift,
    remove_shift,
    update_absence,
)
from dispatch.masterdata.customers import (
    ContractChanges,
    SiteChanges,
    create_contract,
    create_site,
    update_contract,
    update_site,
)
from dispatch.masterdata.engineers import (
    EngineerChanges,
    SkillLevel,
    create_engineer,
    replace_skills,
    set_van_stock,
    update_engineer,
)
from dispatch.masterdata.policies import (
    PolicyChanges,
    PolicyTerms,
    SeverityLevel,
    create_policy,
    update_policy,
)

__all__ = [
    "AbsenceChanges",
    "ContractChanges",
    "EngineerChanges",
    "PolicyChanges",
    "PolicyTerms",
    "SeverityLevel",
    "SiteChanges",
    "SkillLevel",
    "add_absence",
    "add_shift",
    "create_contract",
    "create_engineer",
    "create_policy",
    "create_site",
    "remove_shift",
    "replace_skills",
    "set_van_stock",
    "update_absence",
    "update_contract",
    "update_engineer",
    "update_policy",
    "update_site",
]
