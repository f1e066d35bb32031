"""The forms in a real JupyterLab, driven by headless Chromium (Playwright).

JupyterLab runs on 127.0.0.1 with a token; a notebook builds a LoginForm
and a DeleteForm against a real registry. The browser fills the login form
and clicks Login, then previews and deletes with the delete form; the test
checks the form's status lines, the credentials file and the registry.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from support.net import free_port

import registrykit as rk

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

playwright_api = pytest.importorskip("playwright.sync_api")


def _notebook(path: Path) -> None:
    cells = [
        "import os\nimport registrykit as rk\n\n"
        "client = rk.Client(auth_file=os.environ['RK_AUTH_FILE'], cache_dir=None)\n"
        "rk.set_default_client(client)\nhost = os.environ['RK_HOST']",
        "login_form = rk.widgets.LoginForm(host)\nlogin_form",
        "delete_form = rk.widgets.DeleteForm(f'{host}/samples/webapp:v1.0.0')\ndelete_form",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


@pytest.fixture
def lab(tmp_path: Path, htpasswd_registry: rk.LocalRegistry) -> Iterator[tuple[str, Path]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with rk.Client(
        cache_dir=None,
        logins={htpasswd_registry.host: (htpasswd_registry.username, htpasswd_registry.password)},
    ) as client:
        rk.samples.push(htpasswd_registry, rk.samples.webapp(), client=client)
    root = tmp_path / "lab"
    root.mkdir()
    _notebook(root / "forms.ipynb")
    auth_file = tmp_path / "auth.json"
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        RK_HOST=htpasswd_registry.host,
        RK_AUTH_FILE=str(auth_file),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
    )
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/api/status", params={"token": token}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-2000:])
        yield f"{url}/lab/tree/forms.ipynb?token={token}", auth_file
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_login_and_delete_forms_in_jupyterlab(lab, htpasswd_registry):
    url, auth_file = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(url)
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            page.wait_for_timeout(2_000)  # let a kernel dialog appear, if one will
            login = page.locator(".widget-vbox").filter(
                has=page.get_by_role("button", name="Login")
            )
            # On a busy machine the kernel may not be ready for the first Run All.
            for attempt in range(3):
                page.wait_for_selector(
                    ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
                )
                # JupyterLab may ask which kernel to use before its kernel list loads.
                select = page.locator(".jp-Dialog").get_by_role("button", name="Select")
                if select.is_visible():
                    select.click()
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_text("Run All Cells", exact=True).click()
                try:
                    login.wait_for(timeout=40_000)
                    break
                except playwright_api.TimeoutError:
                    if attempt == 2:
                        raise
            login.locator(".widget-text", has_text="Username").locator("input").fill(
                htpasswd_registry.username
            )
            login.locator("input[type=password]").fill(htpasswd_registry.password)
            login.get_by_role("button", name="Login").click()
            page.wait_for_selector("text=Login succeeded", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "login-form.png"))
            assert login.locator("input[type=password]").input_value() == ""
            stored = json.loads(auth_file.read_text())
            assert htpasswd_registry.host in stored["auths"]
            assert htpasswd_registry.password not in page.content()

            form = page.locator(".widget-vbox").filter(
                has=page.get_by_role("button", name="Preview")
            )
            delete_button = form.get_by_role("button", name="Delete")
            assert delete_button.is_disabled()
            form.get_by_role("button", name="Preview").click()
            page.wait_for_selector("text=Review the preview", timeout=30_000)
            assert delete_button.is_disabled()  # not before the box is ticked
            form.locator(".widget-checkbox", has_text="I understand").locator("input").check()
            delete_button.click()
            page.wait_for_selector("text=Deleted.", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "delete-form.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    logins = {htpasswd_registry.host: (htpasswd_registry.username, htpasswd_registry.password)}
    with rk.Client(cache_dir=None, logins=logins) as client:
        remaining = client.registry(htpasswd_registry.host).tags("samples/webapp")
    assert "v1.0.0" not in remaining and "v1.1.0" in remaining
