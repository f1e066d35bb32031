"""The core needs only the standard library and httpx: no pandas, matplotlib, ipywidgets."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("pandas", "matplotlib", "ipywidgets", "IPython")


def test_core_imports_and_works_without_presentation_libraries():
    script = textwrap.dedent(
        f"""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError(f"blocked: {{name}}")
                return None

        sys.meta_path.insert(0, Block())
        import registrykit as rk
        from registrykit.lab import local as _local
        from registrykit.lab import samples
        ref = rk.parse_reference("nginx")
        assert str(ref) == "docker.io/library/nginx:latest", ref
        assert rk.determine_registry("ghcr.io/a/b").kind == "ghcr"
        with rk.Client(cache_dir=None) as client:
            assert client.registry("ghcr.io").base_url == "https://ghcr.io"
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {BLOCKED!r})
        assert not loaded, loaded
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_presentation_modules_are_not_imported_by_the_package():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, registrykit; print(sorted(m for m in sys.modules "
            f"if m.split('.')[0] in {BLOCKED!r}))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
