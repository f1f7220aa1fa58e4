"""Structured logs in the JSON shape Cloud Logging reads from a function's stdout.

One JSON object a line with ``severity``, ``message`` and the event's fields, so that
log-based metrics and searches can use the fields (``event``, ``source``, ``amount``…).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def write(severity: str, message: str, **fields: Any) -> None:
    record = {"severity": severity, "message": message, **fields}
    stream = sys.stderr if severity in ("ERROR", "CRITICAL") else sys.stdout
    print(json.dumps(record, default=str, ensure_ascii=False), file=stream, flush=True)


def info(message: str, **fields: Any) -> None:
    write("INFO", message, **fields)


def warning(message: str, **fields: Any) -> None:
    write("WARNING", message, **fields)


def error(message: str, **fields: Any) -> None:
    write("ERROR", message, **fields)
