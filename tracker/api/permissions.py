"""Role checks. Object scope is the selectors' job (404); these answer 403 for a wrong role."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tracker.records.models import Role, User


def _role(request: Request) -> str | None:
    user = request.user
    if not isinstance(user, User):
        return None
    if user.role == Role.PATIENT:
        return Role.PATIENT
    return user.role if user.clinic_id else None


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()

    def has_permission(self, request: Request, view: Any) -> bool:
        return _role(request) in self.roles


class IsStaff(_RolePermission):
    roles = (Role.ADMIN, Role.CLINICIAN)


class IsAdmin(_RolePermission):
    roles = (Role.ADMIN,)


class IsClinician(_RolePermission):
    roles = (Role.CLINICIAN,)


class IsPatient(_RolePermission):
    roles = (Role.PATIENT,)


class IsStaffOrPatient(_RolePermission):
    roles = (Role.ADMIN, Role.CLINICIAN, Role.PATIENT)
