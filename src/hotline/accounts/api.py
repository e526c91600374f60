"""Auth and user administration endpoints."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Status, Router, Schema

from hotline.accounts import actions
from hotline.accounts.models import Role, User
from hotline.lib.errors import NotFound

router = Router(tags=["accounts"])


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime
    user_id: int
    role: int


@router.post("/auth/token", auth=None, response=TokenOut, summary="Log in and get a bearer token")
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, object]:
    user = actions.do_login(payload.username, payload.password)
    raw, token = actions.do_issue_token(user, name="api")
    return {"token": raw, "expires_at": token.expires_at, "user_id": user.pk, "role": user.role}


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    role: int
    role_label: str
    department_id: int | None
    department_name: str | None
    phone: str
    extension: str | None
    is_active: bool

    @staticmethod
    def resolve_role_label(obj: User) -> str:
        return str(Role(obj.role).label)

    @staticmethod
    def resolve_department_name(obj: User) -> str | None:
        return obj.department.name if obj.department_id and obj.department else None


@router.get("/me", response=UserOut, summary="The current user")
def me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class UserIn(Schema):
    username: str
    password: str
    role: int
    display_name: str = ""
    department: int | str | None = None
    phone: str = ""
    extension: str | None = None


class UserPatch(Schema):
    role: int | None = None
    display_name: str | None = None
    department: int | str | None = None
    phone: str | None = None
    extension: str | None = None
    is_active: bool | None = None
    password: str | None = None


@router.get("/users", response=list[UserOut], summary="List users (administrators)")
def list_users(request: HttpRequest) -> list[User]:
    actions.require_admin(request.user)  # type: ignore[arg-type]
    return list(User.objects.select_related("department").order_by("username"))


@router.post("/users", response={201: UserOut}, summary="Create a user (administrators)")
def create_user(request: HttpRequest, payload: UserIn) -> Status[User]:
    data = payload.dict()
    password = data.pop("password")
    return Status(201, actions.do_create_user(request.user, data, password))  # type: ignore[arg-type]


@router.patch("/users/{user_id}", response=UserOut, summary="Change a user (administrators)")
def update_user(request: HttpRequest, user_id: int, payload: UserPatch) -> User:
    data = payload.dict(exclude_unset=True)
    password = data.pop("password", None)
    user = actions.do_update_user(request.user, user_id, data)  # type: ignore[arg-type]
    if password:
        actions.do_set_password(request.user, user, password)  # type: ignore[arg-type]
    return User.objects.select_related("department").get(pk=user.pk) if user else _missing()


def _missing() -> User:
    raise NotFound("user not found")
