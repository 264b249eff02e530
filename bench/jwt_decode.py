"""Token verification per connect: the plain HS256 path against PyJWT, in the same run.

`service/http/plain_hs256.py` exists because PyJWT was ~¼ of a stream's connect CPU; this is the
benchmark that keeps it justified. Usage: `python -m bench.jwt_decode [tokens]`. Each round
times `auth._claims` over the same fresh tokens, once as served and once with the plain path
turned off (every token to PyJWT), and prints µs per token and the ratio.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from service.http import auth
from service.settings import Settings

SECRET = "bench-jwt-decode-secret-0123456789abcdef"


def per_token(tokens: list[str], settings: Settings) -> float:
    started = time.perf_counter()
    for token in tokens:
        auth._claims(token, settings)
    return (time.perf_counter() - started) / len(tokens) * 1e6


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    settings = Settings(database_url="postgresql://unused/unused", jwt_secret=SecretStr(SECRET))
    tokens = [auth.mint_token(uuid.uuid4(), settings) for _ in range(count)]
    names = vars(auth)  # the plain path as `auth._claims` looks it up
    plain: Callable[..., Any] = names["plain_hs256_claims"]
    for round_number in range(1, 4):
        fast = per_token(tokens, settings)
        names["plain_hs256_claims"] = lambda *_: None
        try:
            slow = per_token(tokens, settings)
        finally:
            names["plain_hs256_claims"] = plain
        print(
            f"round {round_number}: plain path {fast:.1f} µs, PyJWT {slow:.1f} µs per token "
            f"({count} tokens), ratio {fast / slow:.2f}"
        )


if __name__ == "__main__":
    main()
