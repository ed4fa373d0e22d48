"""OSCAR chat app (Gradio): a thin adapter over kb.

Importing this package makes the process's first `import gradio` skip one step Gradio takes on every import:
rewriting the `.pyi` type stubs of its components from their source (`gradio.component_meta
.create_or_modify_pyi` parses each component's source file with `ast`, 81 classes). The stubs are for editors,
ship in Gradio's wheel, and nothing at run time reads them; the step was about 1.5 s of a 2.9 s import on two
cores, a quarter of `kb serve`'s start. The step is replaced by a no-op in `gradio.component_meta` as that
module is executed (an import hook that acts on that one module once, then removes itself). Should Gradio
rename the step, the hook changes nothing and the import is only slower.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

STUBS_MODULE = "gradio.component_meta"
STUBS_STEP = "create_or_modify_pyi"


def _skip_stubs(*args: Any, **kwargs: Any) -> None:
    """Gradio's type-stub rewrite, skipped (see the module's docstring)."""


class _SkipGradioStubs(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as the normal finders do, and replaces its stub rewrite once it has run."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != STUBS_MODULE:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # one module, once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            if callable(getattr(module, STUBS_STEP, None)):
                setattr(module, STUBS_STEP, _skip_stubs)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if STUBS_MODULE not in sys.modules and not any(isinstance(f, _SkipGradioStubs) for f in sys.meta_path):
    sys.meta_path.insert(0, _SkipGradioStubs())
