#!/usr/bin/env bash
# One-command install: a virtual environment in .venv with OSCAR and its development tools.
# torch is pinned (pyproject.toml) to the CPU build 2.13.0; nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip setuptools wheel
.venv/bin/pip install -q -e '.[dev]'
# Byte-compile OSCAR's own modules: an editable install leaves them as source, and where the environment sets
# PYTHONDONTWRITEBYTECODE every start would compile them again (most of a second of a cold `kb ask`).
.venv/bin/python -m compileall -q kb app >/dev/null
