"""The app's password hash: its algorithm and parameters, their cost, and OWASP's minimum.

Sign-in is slow on purpose, so it is measured apart from the other requests: the hash is what
the app itself stores (``grants.services.accounts.hash_password``), timed alone, and compared
with the minimums of OWASP's Password Storage Cheat Sheet for that algorithm, whose cost on
this machine is timed too (what sign-in would cost at the minimum).
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable
from typing import Any

# scrypt: (N, r, p) configurations OWASP gives as equally strong minimums.
SCRYPT_MINIMUMS = ((2**17, 8, 1), (2**16, 8, 2), (2**15, 8, 3), (2**14, 8, 5), (2**13, 8, 10))
# PBKDF2: iterations per HMAC hash.
PBKDF2_MINIMUMS = {"sha1": 1_300_000, "sha256": 600_000, "sha512": 210_000}
RUNS = 3


def cpu_ms(work: Callable[[], object]) -> float:
    """The median CPU time of ``RUNS`` calls of ``work``, in ms."""
    times = []
    for _ in range(RUNS):
        began = time.process_time()
        work()
        times.append((time.process_time() - began) * 1000)
    return round(statistics.median(times), 1)


def password_hashing() -> dict[str, Any]:
    """What ``hash_password`` stores, what one hash and one check cost, whether the parameters
    meet OWASP's minimum, and what a hash at each of OWASP's minimums costs here."""
    from werkzeug.security import check_password_hash

    from grants.services.accounts import MIN_PASSWORD_LENGTH, hash_password

    password = "x" * MIN_PASSWORD_LENGTH
    stored = hash_password(password)
    method, salt, _digest = stored.split("$", 2)
    found: dict[str, Any] = {
        "method": method,
        "salt_chars": len(salt),
        "hash_ms": cpu_ms(lambda: hash_password(password)),
        "check_ms": cpu_ms(lambda: check_password_hash(stored, password)),
        "meets_minimum": False,
        "at_minimums_ms": {},  # one hash at each of OWASP's minimums for the algorithm
    }
    secret, grain = password.encode(), salt.encode()
    name, *params = method.split(":")
    if name == "scrypt":
        n, r, p = map(int, params)
        found["meets_minimum"] = any(n >= a and r >= b and p >= c for a, b, c in SCRYPT_MINIMUMS)
        for a, b, c in SCRYPT_MINIMUMS:
            found["at_minimums_ms"][f"N=2^{a.bit_length() - 1} r={b} p={c}"] = cpu_ms(
                lambda a=a, b=b, c=c: hashlib.scrypt(
                    secret, salt=grain, n=a, r=b, p=c, maxmem=132 * a * b * c
                )
            )
    elif name == "pbkdf2" and params[0] in PBKDF2_MINIMUMS:
        digest, iterations = params[0], int(params[1])
        least = PBKDF2_MINIMUMS[digest]
        found["meets_minimum"] = iterations >= least
        found["at_minimums_ms"][f"{least:,} iterations of HMAC-{digest.upper()}"] = cpu_ms(
            lambda: hashlib.pbkdf2_hmac(digest, secret, grain, least)
        )
    return found
