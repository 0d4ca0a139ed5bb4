"""Login rate limit, kept in the database so it holds across every web process on it.

After ``LIMIT`` failed sign-ins for one user name (case-insensitive) or from one address within
``WINDOW``, further attempts for that name or from that address are refused, even with the
right password, until the oldest of those failures is older than the window (a sliding window:
with five failures at once, that is five minutes).  A refused attempt is not a failure: it does
not extend the lockout.  A successful sign-in clears the failures of its name and its address.

Each failure is one row per key (``user:<name>``, ``addr:<address>``) in ``login_failures``,
stored as the key's SHA-256: fixed length whatever is typed, and no plain text of what people
type into the name field (sometimes their password).  Rows older than the window are deleted
whenever a failure is recorded, so the table holds at most the last window's failures.

``attempt`` checks and counts in one transaction under a lock (an advisory lock on PostgreSQL,
SQLite's write lock), so parallel requests to several processes cannot slip past the limit
between the check and the count: an attempt counts as a failure from its start, and ``clear``
takes it back when the password was right.  Time comes from the engine's clock.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.store.models import LoginFailureRow

LIMIT = 5
WINDOW = timedelta(minutes=5)

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('contiflow.login_throttle:' || current_schema()))"


def keys(username: str, address: str | None) -> tuple[str, str]:
    """The hashed keys one attempt counts against: its user name and its client address."""
    return (_digest(f"user:{username.strip().lower()}"), _digest(f"addr:{address or 'unknown'}"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _lock(session: Session) -> None:
    """Serialise the throttle's writes: a transaction-scoped advisory lock on PostgreSQL (per
    schema); on SQLite the first write takes the database's write lock, so callers write first."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(_LOCK))


def _prune(session: Session, clock: Clock, window: timedelta) -> None:
    """Delete every failure older than the window (on SQLite this first write takes the lock)."""
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.failed_at <= clock.now() - window))


def _most(session: Session, clock: Clock, hashed: tuple[str, ...], window: timedelta) -> int:
    """The most failures within the window that any of ``hashed`` has."""
    counts = session.execute(select(func.count())
                             .where(LoginFailureRow.key.in_(hashed),
                                    LoginFailureRow.failed_at > clock.now() - window)
                             .group_by(LoginFailureRow.key)).scalars().all()
    return max(counts, default=0)


def _add(session: Session, clock: Clock, hashed: tuple[str, ...]) -> None:
    now = clock.now()
    session.add_all([LoginFailureRow(key=k, failed_at=now) for k in hashed])


def is_locked(sessions: sessionmaker[Session], clock: Clock, username: str, address: str | None, *,
              limit: int = LIMIT, window: timedelta = WINDOW) -> bool:
    """Whether sign-ins for this name or from this address are refused now (read only)."""
    with sessions() as session:
        return _most(session, clock, keys(username, address), window) >= limit


def record_failure(sessions: sessionmaker[Session], clock: Clock, username: str, address: str | None, *,
                   window: timedelta = WINDOW) -> None:
    """Count one failed sign-in against the name and the address; prune what has expired."""
    with sessions.begin() as session:
        _lock(session)
        _prune(session, clock, window)
        _add(session, clock, keys(username, address))


def attempt(sessions: sessionmaker[Session], clock: Clock, username: str, address: str | None, *,
            limit: int = LIMIT, window: timedelta = WINDOW) -> bool:
    """Check and count in one step: False when locked (nothing recorded); otherwise the attempt
    is recorded as a failure and True is returned -- call ``clear`` if the password was right."""
    hashed = keys(username, address)
    with sessions.begin() as session:
        _lock(session)
        _prune(session, clock, window)
        if _most(session, clock, hashed, window) >= limit:
            return False
        _add(session, clock, hashed)
        return True


def clear(sessions: sessionmaker[Session], username: str, address: str | None) -> None:
    """A successful sign-in: forget the failures of this name and of this address."""
    with sessions.begin() as session:
        _lock(session)
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.key.in_(keys(username, address))))
