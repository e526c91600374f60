"""Access to the RFC 4475 torture messages in /work/shared/data/sip/rfc4475."""

from __future__ import annotations

import csv
import os
from pathlib import Path

TORTURE_DIR = Path(os.environ.get("HOTLINE_SIP_TORTURE_DIR", "/work/shared/data/sip/rfc4475"))


def torture(name: str) -> bytes:
    return (TORTURE_DIR / f"{name}.dat").read_bytes()


def torture_index() -> list[dict[str, str]]:
    with open(TORTURE_DIR / "index.tsv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
