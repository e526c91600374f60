"""A cheaper Argon2 for the test suite.

Still Argon2 — the algorithm the product stores — but with the smallest cost, because
the suite creates a dozen users per test and the production cost (≈0.2 s per hash
on this machine) would make one run of the suite take most of CI's time. Hashes
made here verify under the production hasher (the cost is part of the hash), and
production settings are unchanged (tests/accounts checks the stored algorithm).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 256
    parallelism = 1
