"""The invariant of docs/sip.md: hotline.sip imports neither Django, asyncio,
sockets, the clock helper nor the pbx package (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MODULES = ["errors", "grammar", "uri", "headers", "message", "validate", "digest", "transaction", "dialog", "endpoint"]


def test_no_io_framework_is_imported() -> None:
    code = (
        "import sys\n"
        + "".join(f"import hotline.sip.{m}\n" for m in MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'asyncio', 'socket', 'selectors')"
        " or m.startswith(('hotline.pbx', 'hotline.lib')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)},
                            check=True, timeout=60)
    assert result.stdout.strip() == ""
