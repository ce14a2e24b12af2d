"""The session check without a broker round trip on every request.

Accounts owns the sessions; asking it on every page and API call cost one RPC per request (at
50 concurrent readers accounts took about half of this 2-core machine, and reads saturated near
110 requests/s). Each gateway worker process therefore keeps what accounts answered for a
session token for a few seconds (`SESSION_CACHE_SECONDS`, default 5), keyed by the token's
SHA-256, bounded in size.

What that means for ending a session (the bound stated in the README):
- sign-out, ending one's own other session, a password change (the user's other sessions) and an
  admin reset take effect at once in the worker that served them (it forgets the entries
  concerned), and in every other worker within SESSION_CACHE_SECONDS: an entry lives that long
  from the moment its check *started*, so no answer older than the bound is ever used;
- a change of rights (roles imported, a proxy named or revoked) likewise: at once in the worker
  that served it, within SESSION_CACHE_SECONDS everywhere;
- sign-in is never cached: a lockout refuses the next sign-in at once;
- a profile that must change its password first is never cached (it changes on the next request).
"""
import copy
import hashlib
import threading
import time

from cachetools import TLRUCache

DEFAULT_SECONDS = 5.0
MAX_ENTRIES = 20_000


class SessionCache:
    """Per worker process, thread-safe. `seconds` <= 0 turns it off (every request asks accounts)."""

    def __init__(self, seconds: float = DEFAULT_SECONDS, maxsize: int = MAX_ENTRIES, clock=time.monotonic):
        self.seconds = float(seconds)
        self.clock = clock
        self._lock = threading.Lock()
        # when this worker last forgot something: an answer whose check started before that may
        # predate the sign-out it forgot, so it serves its own request but is not kept
        self._last_forget = float("-inf")
        # value = (monotonic time the check started, profile); it expires `seconds` after that start
        self._cache = TLRUCache(maxsize=maxsize, ttu=lambda _key, value, _now: value[0] + self.seconds,
                                timer=clock)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str):
        """A copy of the cached profile of this session token, or None."""
        with self._lock:
            entry = self._cache.get(self._key(token))
        return copy.deepcopy(entry[1]) if entry else None

    def put(self, token: str, profile: dict, checked_at: float) -> None:
        """Keep accounts' answer; `checked_at` = self.clock() taken before the RPC was sent."""
        if self.seconds <= 0 or profile.get("must_change_password"):
            return
        with self._lock:
            if checked_at <= self._last_forget:
                return
            self._cache[self._key(token)] = (checked_at, copy.deepcopy(profile))

    def forget_token(self, token: str) -> None:
        with self._lock:
            self._last_forget = self.clock()
            self._cache.pop(self._key(token), None)

    def forget(self, *, user_id=None, username=None, session_id=None) -> int:
        """Forget every entry of this user (by id or username) or of this session id."""
        def matches(profile):
            return ((user_id is not None and profile.get("user_id") == str(user_id))
                    or (username is not None and profile.get("username") == username)
                    or (session_id is not None and profile.get("session_id") == str(session_id)))
        with self._lock:
            self._last_forget = self.clock()
            gone = [k for k, (_, profile) in list(self._cache.items()) if matches(profile)]
            for k in gone:
                self._cache.pop(k, None)
        return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._last_forget = self.clock()
            self._cache.clear()

    def __len__(self):
        with self._lock:
            return len(self._cache)
