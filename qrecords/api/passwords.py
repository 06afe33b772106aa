"""Password hashing: Argon2id through argon2-cffi (RFC 9106), the one place passwords are
hashed and checked, for every face.

Parameters: time_cost 3 passes, memory_cost 32 MiB, parallelism 1 lane, 16-byte salt,
32-byte hash — above OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane) and measured by
`bench/run.py password` (target 50-250 ms per check; 70-80 ms measured on the 2-core
reference machine): slow enough to make guessing costly, fast enough for a signature prompt. A stored hash made with other
parameters still verifies and is re-hashed with these on the next good proof.
"""

from __future__ import annotations

from ..errors import QrecError

TIME_COST = 3  # passes
MEMORY_COST_KIB = 32 * 1024
PARALLELISM = 1
MIN_LENGTH = 8  # characters


def _hasher():
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB,
                          parallelism=PARALLELISM, hash_len=32, salt_len=16, type=Type.ID)


def hash_password(password: str) -> str:
    """The Argon2id PHC string of `password`. Raises QrecError (param "password") for one
    shorter than MIN_LENGTH characters or made only of spaces."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise QrecError(f"密码至少 {MIN_LENGTH} 个字符 a password needs at least {MIN_LENGTH} "
                        "characters", param="password")
    return _hasher().hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored Argon2id hash (False when none is stored)."""
    if not stored:
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with other parameters than today's."""
    return _hasher().check_needs_rehash(stored)
