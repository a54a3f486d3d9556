"""API key -> user (and user -> write scope), remembered for a few seconds so a request
does not query for its key or scope.

Every request authenticates; looking the key's hash up was one SELECT (and a thread hop)
per request, the largest fixed cost of the HTTP path after the route's own work. The
cache holds a copy of the user per key hash for `Settings.api_key_cache_ttl_s` seconds.
Any change to a user committed through this app's sessions (deactivated, role changed,
key rotated, scope set) empties it at commit; a change made elsewhere (the CLI, another process) is
seen within the TTL. A lookup that started before an invalidation never stores its
answer, so a revoked key cannot be put back by a request that raced the revocation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from db.identity import Scope, User, UserDepot, UserRegion

USERS_CHANGED = "spares_users_changed"


@dataclass
class KeyCache:
    """Key hash -> (user copy, stored at), user id -> (write scope, stored at);
    `generation` counts invalidations."""

    ttl_s: float
    entries: dict[str, tuple[User, float]] = field(default_factory=dict)
    scopes: dict[int, tuple[Scope, float]] = field(default_factory=dict)
    generation: int = 0

    def get_scope(self, user_id: int) -> Scope | None:
        """The cached write scope of a user, or None when absent or older than the TTL."""
        found = self.scopes.get(user_id)
        if found is None or time.monotonic() - found[1] > self.ttl_s:
            return None
        return found[0]

    def put_scope(self, user_id: int, scope: Scope, generation: int) -> None:
        """Remember a user's scope unless the cache was invalidated since `generation`."""
        if self.ttl_s > 0 and generation == self.generation:
            self.scopes[user_id] = (scope, time.monotonic())

    def get(self, key_hash: str) -> User | None:
        """The cached user for a key hash, or None when absent or older than the TTL."""
        found = self.entries.get(key_hash)
        if found is None:
            return None
        user, stored_at = found
        if time.monotonic() - stored_at > self.ttl_s:
            self.entries.pop(key_hash, None)
            return None
        return user

    def put(self, key_hash: str, user: User, generation: int) -> User:
        """Remember a copy of `user` unless the cache was invalidated since `generation`.

        The copy is a plain (transient) `User` with its columns: it never expires with a
        session's rollback and is shared by requests, which read its id, name and role.
        """
        copy = User(id=user.id, name=user.name, role=user.role, active=user.active,
                    api_key_hash=user.api_key_hash, created_at=user.created_at)  # fmt: skip
        if self.ttl_s > 0 and generation == self.generation:
            self.entries[key_hash] = (copy, time.monotonic())
        return copy

    def clear(self) -> None:
        """Forget every key and scope (a user or a scope changed)."""
        self.generation += 1
        self.entries.clear()
        self.scopes.clear()


def _note_user_changes(session: Session, _context: object, _instances: object) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(o, User | UserDepot | UserRegion) for o in changed):
        session.info[USERS_CHANGED] = True


def invalidate_on_user_changes(factory: sessionmaker[Session], cache: KeyCache) -> None:
    """Empty `cache` whenever a session of `factory` commits a change to a user."""
    event.listen(factory, "before_flush", _note_user_changes)

    def after_commit(session: Session) -> None:
        if session.info.pop(USERS_CHANGED, False):
            cache.clear()

    event.listen(factory, "after_commit", after_commit)
