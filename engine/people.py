"""People and roles: users, roles with primary and backup members (the plan's A/B roles).

Loaded from a YAML directory file (format in the README), editable later; lanes and candidate
groups in models name these roles.  Passwords are stored as scrypt hashes (stdlib hashlib).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, ServiceError
from engine.store.models import RoleMemberRow, RoleRow, UserRow

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _is_scrypt_hash(value: str) -> bool:
    parts = value.split("$")
    if len(parts) != 3 or parts[0] != "scrypt" or len(parts[2]) != 64:
        return False
    try:
        bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        return False
    return True


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt_hex, digest_hex = stored.split("$", 2)
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    email: str | None
    webhook: str | None
    admin: bool

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "email": self.email,
                "webhook": self.webhook, "admin": self.admin}


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    primary: list[str] = field(default_factory=list)
    backup: list[str] = field(default_factory=list)
    webhook: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "primary": self.primary,
                "backup": self.backup, "webhook": self.webhook}


def parse_directory(text: str, source: str = "people file") -> dict[str, Any]:
    """Validate the YAML shape; every error names the entry and field."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InvalidInput(f"{source}:{where} is not valid YAML") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{source}: expected a mapping with 'users' and 'roles'")
    users = doc.get("users") or []
    roles = doc.get("roles") or {}
    if not isinstance(users, list) or not isinstance(roles, dict):
        raise InvalidInput(f"{source}: 'users' must be a list and 'roles' a mapping")
    names = set()
    for i, user in enumerate(users):
        if not isinstance(user, dict) or not user.get("username"):
            raise InvalidInput(f"{source}: users[{i}] needs a 'username'")
        names.add(str(user["username"]))
        stored = user.get("password_hash")
        if stored is not None and not _is_scrypt_hash(str(stored)):
            raise InvalidInput(f"{source}: users[{i}].password_hash must be a hash made by "
                               f"`contiflow people --hash-password` (scrypt$<salt hex>$<digest hex>)")
        if stored is not None and user.get("password"):
            raise InvalidInput(f"{source}: users[{i}] has both 'password' and 'password_hash'; keep one")
    for role, spec in roles.items():
        if not isinstance(spec, dict):
            raise InvalidInput(f"{source}: roles.{role} must be a mapping with primary/backup lists")
        for position in ("primary", "backup"):
            members = spec.get(position) or []
            if not isinstance(members, list):
                raise InvalidInput(f"{source}: roles.{role}.{position} must be a list of usernames")
            unknown = [m for m in members if str(m) not in names]
            if unknown:
                raise InvalidInput(f"{source}: roles.{role}.{position} names unknown user(s) {unknown}")
    return {"users": users, "roles": roles}


def load_directory(session: Session, text: str, source: str = "people file") -> tuple[int, int]:
    """Replace users' details and role memberships with the file's (users not in it are kept)."""
    doc = parse_directory(text, source)
    for user in doc["users"]:
        row = session.get(UserRow, str(user["username"])) or UserRow(username=str(user["username"]))
        row.name = str(user.get("name") or user["username"])
        row.email = user.get("email")
        row.webhook = user.get("webhook")
        row.admin = bool(user.get("admin", False))
        row.active = True
        if user.get("password"):
            row.password_hash = hash_password(str(user["password"]))
        elif user.get("password_hash"):          # hashed elsewhere: no plain text in the file
            row.password_hash = str(user["password_hash"])
        session.merge(row)
    session.flush()
    for name, spec in doc["roles"].items():
        role = session.get(RoleRow, name) or RoleRow(name=name)
        role.description = str(spec.get("description") or "")
        role.webhook = spec.get("webhook")
        session.merge(role)
        session.flush()
        session.execute(delete(RoleMemberRow).where(RoleMemberRow.role == name))
        for position in ("primary", "backup"):
            for rank, username in enumerate(spec.get(position) or []):
                session.add(RoleMemberRow(role=name, username=str(username), position=position, rank=rank))
    session.flush()
    return len(doc["users"]), len(doc["roles"])


def get_role(session: Session, name: str) -> Role:
    row = session.get(RoleRow, name)
    if row is None:
        raise NotFound(f"no role '{name}'")
    members = session.scalars(select(RoleMemberRow).where(RoleMemberRow.role == name)
                              .order_by(RoleMemberRow.position.desc(), RoleMemberRow.rank)).all()
    return Role(name, row.description,
                [m.username for m in members if m.position == "primary"],
                [m.username for m in members if m.position == "backup"], row.webhook)


def list_roles(session: Session) -> list[Role]:
    return [get_role(session, name) for name in session.scalars(select(RoleRow.name).order_by(RoleRow.name))]


def get_person(session: Session, username: str) -> Person:
    row = session.get(UserRow, username)
    if row is None or not row.active:
        raise NotFound(f"no user '{username}'")
    return Person(row.username, row.name, row.email, row.webhook, row.admin)


def list_people(session: Session) -> list[Person]:
    return [Person(r.username, r.name, r.email, r.webhook, r.admin)
            for r in session.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.username))]


_ROLES_OF = (select(RoleMemberRow.__table__.c.role).where(RoleMemberRow.__table__.c.username == bindparam("u"))
             .order_by(RoleMemberRow.__table__.c.role))


def roles_of(session: Session, username: str) -> list[str]:
    """The user's roles (primary or backup), sorted: read on every web request, so one Core
    statement on the session's connection, without the ORM."""
    return list(session.connection().execute(_ROLES_OF, {"u": username}).scalars())


def authenticate(session: Session, username: str, password: str) -> Person | None:
    row = session.get(UserRow, username)
    if row is None or not row.active or not verify_password(password, row.password_hash):
        return None
    return Person(row.username, row.name, row.email, row.webhook, row.admin)


def addressees(session: Session, target: str) -> tuple[list[Person], list[Person]]:
    """(primary, backup) people of a role, or ([that user], []) for a username."""
    if session.get(RoleRow, target) is not None:
        role = get_role(session, target)
        return ([get_person(session, u) for u in role.primary],
                [get_person(session, u) for u in role.backup])
    if session.get(UserRow, target) is not None:
        return [get_person(session, target)], []
    raise ServiceError(f"'{target}' is neither a role nor a user in the people directory")
