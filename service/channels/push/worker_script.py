"""/sw.js: the push service worker as one classic script, with the front end's type registry in it.

Another origin `importScripts` /sw.js into its own service worker, so it must be one classic
script: no module syntax, and no second file to fetch (an imported script cannot tell its own
address to find one). The type registry (clients/js/src/types.js) is an ES module for the page,
the element and desktop notifications; it has no imports and only top-level
`export function|const|class` declarations, so without the `export` keywords, inside a function
that returns them, it is a classic script. The worker (clients/js/src/push-worker.js) follows it
in the same function and finds it as `VividlyTypes`: the worker's global scope gets nothing.

Built once per app from the files on disk: the JS sources are written once, never generated
into the repository.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

CLIENT_SOURCES = Path(__file__).resolve().parents[3] / "clients/js/src"
TYPES = CLIENT_SOURCES / "types.js"
WORKER = CLIENT_SOURCES / "push-worker.js"
REGISTRY_NAME = "VividlyTypes"

_EXPORT = re.compile(r"^export (?=(?:const|function|class) )", re.MULTILINE)
_EXPORTED = re.compile(r"^export (?:const|function|class) ([A-Za-z_$][\w$]*)", re.MULTILINE)
_MODULE_SYNTAX = re.compile(r"^\s*(?:import|export)\b", re.MULTILINE)


def classic(module: str, name: str) -> str:
    """`const name = {…its exports}` from an ES module with no imports and only plain exports."""
    exported = _EXPORTED.findall(module)
    body = _EXPORT.sub("", module)
    if not exported or _MODULE_SYNTAX.search(body):
        raise ValueError(f"{name}: only top-level `export const|function|class` become classic")
    return (
        f"const {name} = (() => {{\n'use strict';\n{body}\n"
        f"return Object.freeze({{ {', '.join(exported)} }});\n}})();\n"
    )


def service_worker() -> bytes:
    """The script served at /sw.js: the type registry, then the worker, in one function scope."""
    return (
        "// The Vividly push service worker (clients/js/src/push-worker.js) with the type\n"
        "// registry (clients/js/src/types.js) ahead of it, made one classic script by\n"
        "// service/push/worker_script.py.\n"
        f"(() => {{\n{classic(TYPES.read_text(), REGISTRY_NAME)}\n{WORKER.read_text()}}})();\n"
    ).encode()


@functools.cache
def cached() -> bytes:
    """`service_worker()`, built once per process."""
    return service_worker()
