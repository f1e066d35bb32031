"""Write the workflow notebooks and run them, so they are committed with outputs.

    python notebooks/build_notebooks.py          # all notebooks
    python notebooks/build_notebooks.py 03       # those whose name starts with 03

The notebooks are the teaching material; this file is their source, so a
change to the API means one edit here and one run. Progress bars are off
while running (``TQDM_DISABLE``), as they are under nbval, so stored outputs
hold results only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

START = """\
import registrykit as rk

lab = rk.LocalRegistry().start()   # the real CNCF registry on 127.0.0.1, with its own storage
pushed = rk.samples.push(lab)      # deterministic sample images: same digests on every machine
print(lab.url)"""

STOP = """\
lab.stop()   # stops exactly the registry process this notebook started"""


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(text.strip())


def commands(rows: list[tuple[str, str, str, str]]) -> nbformat.NotebookNode:
    lines = ["| registrykit | docker | podman | skopeo |", "| --- | --- | --- | --- |"]
    lines += [f"| `{a}` | {_cmd(b)} | {_cmd(c)} | {_cmd(d)} |" for a, b, c, d in rows]
    return md("**The same step with other tools**\n\n" + "\n".join(lines))


def _cmd(text: str) -> str:
    # A pipe ends a table cell even inside a code span (GFM): escape it.
    text = text.replace("|", "\\|")
    return f"`{text}`" if text and not text.startswith("(") else text or "—"


NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {
    "00_quickstart": [
        md("""
# registrykit quick start

registrykit lets you look at container registries from Jupyter. It speaks the
registry's HTTP API (the OCI Distribution API) directly, so no Docker or
Podman daemon is needed. Results come back as pandas DataFrames, plots and
forms.

This notebook starts its own registry (the real CNCF `registry` program,
listening on 127.0.0.1), pushes sample images into it, looks around, and
stops it again. Everything runs offline.
"""),
        code(START),
        md(
            "## What is in the registry?\n`rk.catalog` lists repositories; `rk.tags` "
            "lists tags with their digest, platform, size and build date."
        ),
        code("rk.catalog(lab.host)"),
        md(
            "Newest first. `rk.frames.readable` shows any frame with binary sizes and short "
            "digests; the frame itself keeps exact bytes for code."
        ),
        code(
            "tags = rk.tags(f'{lab.host}/samples/webapp')\n"
            "rk.frames.readable(tags[['tag', 'tag_kind', 'platform', 'size', 'created']])"
        ),
        md("## One image up close\n`rk.inspect` answers like `skopeo inspect`."),
        code("print(rk.inspect(f'{lab.host}/samples/hello:latest'))"),
        md(
            "## Sizes over time\nEach release of *webapp* against the previous one: "
            "`size_change` shows a size regression at a glance."
        ),
        code(
            "history = rk.tag_history(f'{lab.host}/samples/webapp')\n"
            "rk.frames.readable(history[['tags', 'created', 'size', 'size_change']])"
        ),
        code("fig = rk.plots.tag_history(history)\nfig"),
        commands(
            [
                (
                    "rk.catalog(host)",
                    "(no command)",
                    "(no command)",
                    "(curl http://HOST/v2/_catalog)",
                ),
                (
                    "rk.tags(repo)",
                    "(no command)",
                    "podman search --list-tags REPO",
                    "skopeo list-tags docker://REPO",
                ),
                (
                    "rk.inspect(image)",
                    "docker manifest inspect IMAGE",
                    "podman manifest inspect IMAGE",
                    "skopeo inspect docker://IMAGE",
                ),
            ]
        ),
        code(STOP),
    ],
    "01_detect_runtime": [
        md("""
# Step 1: detect the runtime

Before working with a registry, find out which container tools are on this
machine and where they keep their logins. docker and podman store
credentials in different files; skopeo reads both. registrykit itself needs
none of them, but it reads the same files, so a `docker login` you already
did works here too.
"""),
        code(
            "import registrykit as rk\n\nruntime = rk.detect_runtime()\n"
            "print('runtime:', runtime.runtime)\nprint('skopeo present:', "
            "runtime.skopeo is not None)"
        ),
        md(
            "`runtime.auth_files` lists the credential files in effect, in the order they "
            "are read: `REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json` "
            "(podman), `$DOCKER_CONFIG/config.json` and `~/.docker/config.json` (docker)."
        ),
        code("runtime.auth_files"),
        md(
            "Registry settings come from podman's `registries.conf` (mirrors, insecure "
            "registries, unqualified-search registries) and docker's `daemon.json` "
            "(`insecure-registries`, `registry-mirrors`). registrykit's client honours "
            "them."
        ),
        code(
            "settings = runtime.settings\nsettings.insecure, dict(settings.mirrors), "
            "settings.unqualified_search"
        ),
        code("settings.is_insecure('myregistry.local:5000')"),
        commands(
            [
                ("rk.detect_runtime()", "docker version", "podman version", "skopeo --version"),
                (
                    "runtime.auth_files",
                    "cat ~/.docker/config.json",
                    "cat $XDG_RUNTIME_DIR/containers/auth.json",
                    "(reads both)",
                ),
            ]
        ),
    ],
    "02_determine_registry": [
        md("""
# Step 2: determine the registry

An image reference says which registry holds the image. `nginx` is short for
`docker.io/library/nginx:latest`; a first component with a `.` or `:` (or
`localhost`) is a registry host. `rk.parse_reference` applies the same
grammar docker does, and `rk.determine_registry` says what kind of registry
it is and how to log in to it.
"""),
        code(
            "import registrykit as rk\n\nexamples = ['nginx', 'user/app:v1', "
            "'ghcr.io/acme/api@sha256:' + '0' * 64,\n            'localhost:5000/team/app']\n"
            "for text in examples:\n"
            "    ref = rk.parse_reference(text)\n"
            "    print(f'{text:<40} -> {ref}')"
        ),
        md("Bad references get an error that names the problem:"),
        code(
            "for bad in ['Upper/Case', 'app:tag with space', 'app@sha256:123']:\n"
            "    try:\n        rk.parse_reference(bad)\n"
            "    except rk.InvalidReference as err:\n        print(err)"
        ),
        md("## Which registry, and how to log in"),
        code(
            "import pandas as pd\n\nhosts = ['docker.io', 'ghcr.io', 'registry.gitlab.com', "
            "'quay.io',\n         '123456789012.dkr.ecr.us-east-1.amazonaws.com', "
            "'public.ecr.aws', 'gcr.io',\n         'europe-west1-docker.pkg.dev', "
            "'myregistry.azurecr.io', 'localhost:5000',\n         'registry.example.com']\n"
            "hints = pd.DataFrame([{'host': i.host, 'kind': i.kind, 'api_host': i.api_host,\n"
            "                       'login': i.login_hint}\n"
            "                      for i in map(rk.determine_registry, hosts)])\n"
            "with pd.option_context('display.max_colwidth', None):  # hints in full\n"
            "    display(hints)"
        ),
        commands(
            [
                (
                    "rk.parse_reference(s)",
                    "(implicit in every command)",
                    "(same)",
                    "(same, with docker:// prefix)",
                ),
                ("rk.determine_registry(ref)", "(none)", "(none)", "(none)"),
            ]
        ),
    ],
    "03_authenticate": [
        md("""
# Step 3: authenticate

Registries ask for credentials with an HTTP 401 and a challenge: either
*Basic* (send username and password) or *Bearer* (get a short-lived token
from an auth server, then send that). `rk.login` checks the credentials
against the registry's `/v2/` endpoint first, through the token flow when the
registry wants one, and only then stores them the way docker and podman do:
in a credential helper if one is configured, otherwise in the auth file,
written with mode 0600.

This notebook uses a registry that requires a login, and its own auth file
so your real `~/.docker/config.json` is never touched.
"""),
        code(
            "import json\nimport tempfile\nfrom pathlib import Path\n\nimport registrykit as rk\n\n"
            "workdir = Path(tempfile.mkdtemp())\n"
            "client = rk.Client(auth_file=workdir / 'auth.json', cache_dir=None)\n"
            "rk.set_default_client(client)\n\n"
            "lab = rk.LocalRegistry(auth='htpasswd', username='student', "
            "password='training-pass-42').start()\nprint(lab.url)"
        ),
        md("Without a login, the registry refuses; the error says what to do:"),
        code(
            "try:\n    rk.catalog(lab.host)\nexcept rk.AuthenticationError as err:\n"
            "    print(type(err).__name__, '-', err)"
        ),
        code("result = rk.login(lab.host, 'student', 'training-pass-42')\nprint(result)"),
        md(
            "The password never appears in a result, a repr, a log line or an error. "
            "What is stored looks like docker's own file (the secret is masked here):"
        ),
        code(
            "stored = json.loads((workdir / 'auth.json').read_text())\n"
            "{host: {key: '***' for key in entry} for host, entry in stored['auths'].items()}"
        ),
        code("oct((workdir / 'auth.json').stat().st_mode & 0o777)"),
        code("rk.credentials()"),
        code("rk.samples.push(lab)\nrk.catalog(lab.host)"),
        code("rk.logout(lab.host)\nrk.credentials()"),
        md("""
## The login form

`rk.widgets.LoginForm()` does the same from a form: the password sits in a
password field, is cleared after use and is never echoed.
"""),
        code("form = rk.widgets.LoginForm(lab.host)\nform"),
        md("""
## Cloud registries

ECR, GCR/Artifact Registry and ACR take a short-lived token that the cloud's
own CLI makes from your cloud login. `rk.login(host)` without a password runs
that CLI for you:

| registry | what registrykit runs | username |
| --- | --- | --- |
| ECR | `aws ecr get-login-password --region R` | `AWS` |
| GCR / Artifact Registry | `gcloud auth print-access-token` | `oauth2accesstoken` |
| ACR | `az acr login --name N --expose-token` | `00000000-0000-0000-0000-000000000000` |
"""),
        code(
            "for host in ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'gcr.io', "
            "'myregistry.azurecr.io']:\n    print(rk.determine_registry(host).login_hint)"
        ),
        commands(
            [
                (
                    "rk.login(host, user, password)",
                    "docker login HOST -u USER --password-stdin",
                    "podman login HOST -u USER --password-stdin",
                    "skopeo login HOST -u USER",
                ),
                (
                    "rk.logout(host)",
                    "docker logout HOST",
                    "podman logout HOST",
                    "skopeo logout HOST",
                ),
                (
                    "rk.credentials()",
                    "cat ~/.docker/config.json",
                    "cat $XDG_RUNTIME_DIR/containers/auth.json",
                    "(none)",
                ),
            ]
        ),
        code("lab.stop()\nclient.close()\nrk.set_default_client(None)"),
    ],
    "04_push_and_pull": [
        md("""
# Step 4a: push and pull

A pull downloads an image's manifest, config and layers; a push uploads
them, layers first and the manifest last, so a registry never holds a
manifest whose layers are missing. registrykit speaks the registry API
itself, with no daemon involved: it pulls into an OCI image layout directory,
a `docker save` tarball, or the local store of podman or docker, and pushes
from any of them. Locations are written as skopeo writes them:
`oci:DIR[:TAG]`, `docker-archive:FILE`, `podman:NAME[:TAG]`,
`docker-daemon:NAME[:TAG]`, and a plain reference for a registry.
"""),
        code(START),
        md("## Into a directory or a file"),
        code(
            "import tempfile\nfrom pathlib import Path\n\nworkdir = Path(tempfile.mkdtemp())\n"
            "pulled = rk.pull(f'{lab.host}/samples/webapp:v1.4.0', workdir / 'webapp')\n"
            "print(pulled)"
        ),
        code("sorted(p.name for p in (workdir / 'webapp').iterdir())"),
        md("Multi-arch images keep their index unless you pick a platform:"),
        code(
            "arm = rk.pull(f'{lab.host}/samples/api:2.1.0', workdir / 'api-arm64', "
            "platform='linux/arm64')\nprint(arm)"
        ),
        md("A `docker save`-style archive that `docker load` and `podman load` accept:"),
        code(
            "archive = rk.pull(f'{lab.host}/samples/hello:latest', workdir / 'hello.tar',\n"
            "                  format='docker-archive')\nprint(archive)"
        ),
        md("""
## Images in podman's store

The images you build and run live in the container runtime's local store.
registrykit reaches them through `podman save` / `podman load` (or `docker
save` / `docker load`), so `rk.push('myapp:latest', ...)` works like
`podman push`. So that this notebook does not fill your own image store,
podman gets a throwaway one first: `PodmanSandbox` writes a vfs
`storage.conf` and a `registries.conf` (naming the lab registry, which speaks
plain http) in a temporary directory and points this kernel and the commands
it starts at them. It is for teaching only: with your own podman, skip it.
"""),
        code(
            "import subprocess\n"
            "from registrykit.lab.podman import PodmanSandbox\n\n"
            "sandbox = PodmanSandbox(insecure=[lab.host]).start()\n\n\n"
            "def run(*command):\n"
            '    """Run a command and show what it prints, as a terminal would."""\n'
            "    proc = subprocess.run(command, capture_output=True, text=True)\n"
            "    print(proc.stdout if proc.returncode == 0 else proc.stderr)\n\n\n"
            "IMAGES = 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}'\n"
            "run('podman', 'images', '--format', IMAGES)"
        ),
        md(
            "The store is empty. Load the archive pulled above into it, as `podman load` "
            "would, under the name `myapp:latest` (podman keeps names without a registry "
            "under `localhost/`):"
        ),
        code(
            "loaded = rk.copy(f\"docker-archive:{workdir / 'hello.tar'}\", 'podman:myapp:latest')\n"
            "print(loaded)"
        ),
        code("run('podman', 'images', '--sort', 'repository', '--format', IMAGES)"),
        md(
            "Push it. `myapp:latest` is neither a file nor a directory, so it is taken "
            "from the runtime's store (`podman:myapp:latest` says so explicitly):"
        ),
        code("pushed = rk.push('myapp:latest', f'{lab.host}/myapp:1')\nprint(pushed)"),
        md(
            "Pull into podman: the image is loaded under its own name, as `podman pull` "
            "does. (`into='docker'` loads into docker the same way.)"
        ),
        code(
            "into_podman = rk.pull(f'{lab.host}/samples/webapp:v1.4.0', into='podman')\n"
            "print(into_podman)"
        ),
        code("run('podman', 'images', '--sort', 'repository', '--format', IMAGES)"),
        md(
            "Check with the tools themselves. The image ID podman shows is the digest of "
            "the image config, so podman and the registry agree that they hold the same "
            "image; skopeo reads the pushed tag (`--tls-verify=false`: the lab registry "
            "speaks plain http)."
        ),
        code(
            "run('podman', 'image', 'inspect', '--format', '{{.Id}}', 'myapp:latest')\n"
            "print(rk.manifest(f'{lab.host}/myapp:1')['config']['digest'])"
        ),
        code(
            "run('skopeo', 'inspect', '--tls-verify=false', '--format', "
            "'{{.Name}} {{.Os}}/{{.Architecture}}, {{len .Layers}} layers',\n"
            "    f'docker://{lab.host}/myapp:1')"
        ),
        md(
            "The command line takes the same locations: `registrykit pull IMAGE --into "
            "podman`, `registrykit push myapp:latest IMAGE`, `registrykit copy "
            "podman:myapp:latest oci:DIR:TAG`. Each prints a `Verify` command that "
            "succeeds when you run it."
        ),
        code("sandbox.close()   # restores the environment and deletes the sandbox's store"),
        md("## Between registries and layouts"),
        md("Push the layout back under a new name; the digest is unchanged:"),
        code(
            "pushed_back = rk.push(workdir / 'webapp', f'{lab.host}/team/webapp:v1.4.0')\n"
            "print(pushed_back)"
        ),
        md("Retag in the registry without pulling (the same manifest bytes under a new tag):"),
        code("print(rk.tag(f'{lab.host}/team/webapp:v1.4.0', 'prod'))"),
        commands(
            [
                (
                    "rk.pull(image, path)",
                    "(none: docker writes no OCI layout)",
                    "(one platform only: `podman pull IMAGE && podman push IMAGE oci:DIR:TAG`)",
                    "skopeo copy --all docker://IMAGE oci:DIR:TAG",
                ),
                (
                    "rk.pull(image, path, platform='linux/arm64')",
                    "(none: docker writes no OCI layout)",
                    "podman pull --arch arm64 IMAGE && podman push IMAGE oci:DIR:TAG",
                    "skopeo copy --override-arch arm64 docker://IMAGE oci:DIR:TAG",
                ),
                (
                    "rk.pull(image, file, format='docker-archive')",
                    "docker pull IMAGE && docker save -o FILE IMAGE",
                    "podman pull IMAGE && podman save -o FILE IMAGE",
                    "skopeo copy docker://IMAGE docker-archive:FILE:IMAGE",
                ),
                (
                    "rk.copy('docker-archive:FILE', 'podman:NAME')",
                    "docker load -i FILE && docker tag LOADED NAME",
                    "podman load -i FILE && podman tag LOADED NAME",
                    "skopeo copy docker-archive:FILE containers-storage:NAME",
                ),
                (
                    "rk.push('myapp:latest', image)",
                    "docker tag myapp:latest IMAGE && docker push IMAGE",
                    "podman push myapp:latest IMAGE",
                    "skopeo copy containers-storage:localhost/myapp:latest docker://IMAGE",
                ),
                (
                    "rk.pull(image, into=RUNTIME)",
                    "docker pull IMAGE",
                    "podman pull IMAGE",
                    "skopeo copy docker://IMAGE containers-storage:IMAGE",
                ),
                (
                    "rk.push(path, image)",
                    "docker load -i FILE && docker tag LOADED IMAGE && docker push IMAGE",
                    "podman load -i PATH && podman push LOADED IMAGE",
                    "skopeo copy oci:DIR:TAG docker://IMAGE",
                ),
                (
                    "rk.tag(image, 'prod')",
                    "docker pull A && docker tag A B && docker push B",
                    "podman pull A && podman tag A B && podman push B",
                    "skopeo copy docker://A docker://B",
                ),
            ]
        ),
        code(STOP),
    ],
    "05_list_search_inspect": [
        md("""
# Step 4b: list, search and inspect

A registry answers three questions without downloading any layer: which
repositories it has (the catalog), which tags a repository has, and what a
tag points to (the manifest and the image config).
"""),
        code(START),
        code("rk.catalog(lab.host)"),
        md(
            "A glob (or a regex starting with `^`) narrows the catalog; on registries "
            "other than Docker Hub, `rk.search` is that filter:"
        ),
        code("rk.catalog(lab.host, pattern='samples/w*')"),
        code("rk.search('app', registry=lab.host)"),
        md(
            "One row per tag and platform; multi-arch tags give one row per platform. "
            "`tag_kind` names the tagging style:"
        ),
        code("api = rk.tags(f'{lab.host}/samples/api')\napi"),
        md(
            "A frame keeps exact bytes and full digests for code. To read one, "
            "`rk.frames.readable` shows any frame with binary sizes (KiB, MiB) and short "
            "digests:"
        ),
        code("rk.frames.readable(api)"),
        code("rk.tag_report(f'{lab.host}/samples/webapp')"),
        md(
            "Non-image artifacts, such as Helm charts, appear with their media type and "
            "no platform:"
        ),
        code(
            "rk.tags(f'{lab.host}/samples/charts/webapp')[['tag', 'media_type', 'platform', "
            "'size']]"
        ),
        code("info = rk.inspect(f'{lab.host}/samples/webapp:stable')\ninfo"),
        md("The raw documents, as `skopeo inspect --raw` and `--config` print them:"),
        code("rk.manifest(f'{lab.host}/samples/webapp:stable')['layers'][0]"),
        code("rk.config(f'{lab.host}/samples/webapp:stable')['history']"),
        commands(
            [
                ("rk.catalog(host)", "(none)", "(none)", "(curl /v2/_catalog)"),
                ("rk.search(term)", "docker search TERM", "podman search TERM", "(none)"),
                (
                    "rk.tags(repo)",
                    "(none)",
                    "podman search --list-tags REPO",
                    "skopeo list-tags docker://REPO",
                ),
                (
                    "rk.inspect(image)",
                    "docker manifest inspect IMAGE",
                    "podman manifest inspect IMAGE",
                    "skopeo inspect docker://IMAGE",
                ),
                ("rk.manifest(image)", "(none)", "(none)", "skopeo inspect --raw docker://IMAGE"),
            ]
        ),
        code(STOP),
    ],
    "06_tag_history": [
        md("""
# Step 4c: tag history and size regressions

Releases of *webapp* v1.0.0 … v1.4.0 grow a little each time, except once:
v1.3.0 shipped 6 MB of debug assets by mistake. The tag history has one row
per image (all its tags in `tags`), ordered by date, and compares each with
the one before it.
"""),
        code(START),
        code("history = rk.tag_history(f'{lab.host}/samples/webapp')\nrk.frames.readable(history)"),
        code("history.loc[history['size_change'].idxmax(), ['tag', 'size_change']]"),
        code("fig = rk.plots.tag_history(history)\nfig"),
        md("What changed between the two releases:"),
        code(
            "rk.frames.readable(rk.diff(f'{lab.host}/samples/webapp:v1.2.0', "
            "f'{lab.host}/samples/webapp:v1.3.0'))"
        ),
        md(
            "The layers say *that* v1.3.0 grew, not *why*. `rk.diff_files` compares the "
            "merged filesystems of the two images path by path (tar headers only, nothing "
            "extracted, deleted files applied), largest change first, with the layer and "
            "build step that brought each path. The CLI: `registrykit diff --files A B`."
        ),
        code(
            "files_diff = rk.diff_files(f'{lab.host}/samples/webapp:v1.2.0', "
            "f'{lab.host}/samples/webapp:v1.3.0')\nrk.frames.readable(files_diff)"
        ),
        code("fig = rk.plots.diff_files(files_diff)\nfig"),
        code("rk.frames.readable(rk.history(f'{lab.host}/samples/webapp:v1.3.0'))"),
        md("""
## Dates you can trust

Every listing carries three times:

* `created`: the build time from the image config (or the index's
  `org.opencontainers.image.created` annotation, a better build time where present).
  Reproducible builders stamp a fixed fake value: 1970-01-01 (ko, Jib, Bazel
  rules_docker; Nix adds one second), 1980-01-01 (Cloud Native Buildpacks),
  0001-01-01 (rules_oci, nix2container). registrykit shows those as `NaT`: no date.
* `pushed`: when the registry says the tag was last pushed. The CNCF registry
  here has no such API, so it is `NaT`. Docker Hub's tags API has `tag_last_pushed`,
  GHCR its package versions, GitLab its tags API, Quay its tag history, ACR its
  `/acr/v1/` metadata, ECR `imagePushedAt`, and GCR / Artifact Registry put
  `timeUploadedMs` in the ordinary tag list (so it costs nothing).
* `date`: `pushed`, else `created`; `date_source` says which. Listings, tag
  history, plots and retention order and filter by `date`. A row with no date
  comes last, and no age rule ever deletes it.

A service whose newest release was built by ko shows what that means:
"""),
        code(
            "from registrykit.lab.build import build_image, gzip_layer, tar_layer\n\n"
            "def release(version, created):\n"
            "    layer = gzip_layer(tar_layer({'app/service': version.encode() * 1000}))\n"
            "    image = build_image([layer], created=created)\n"
            "    return rk.samples.Sample('team/service', (version,), image, version)\n\n"
            "rk.samples.push(lab, [\n"
            "    release('v1.0.0', '2024-02-01T10:00:00Z'),\n"
            "    release('v1.1.0', '2024-04-01T10:00:00Z'),\n"
            "    release('v1.2.0', '1970-01-01T00:00:00Z'),   # built by ko: a fixed fake date\n"
            "])\n"
            "service = rk.tags(f'{lab.host}/team/service')\n"
            "columns = ['tag', 'date', 'date_source', 'created', 'pushed', 'size']\n"
            "rk.frames.readable(service[columns])"
        ),
        md(
            "v1.2.0 has no date, so it sorts last rather than first (as 1970 would), and "
            "an age rule keeps it: `reason` says why. (`older_than` also takes `'90d'`.)"
        ),
        code(
            "import datetime as dt\n\n"
            "plan = rk.retention_plan(f'{lab.host}/team/service',\n"
            "                         older_than=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))\n"
            "rk.frames.readable(plan[['tag', 'date', 'action', 'reason']])"
        ),
        commands(
            [
                ("rk.tag_history(repo)", "(none)", "(none)", "(a loop of skopeo inspect)"),
                ("rk.diff_files(a, b)", "(none)", "(none)", "(none)"),
                (
                    "rk.history(image)",
                    "docker history IMAGE",
                    "podman history IMAGE",
                    "skopeo inspect --config docker://IMAGE",
                ),
            ]
        ),
        code(STOP),
    ],
    "07_layers_files_audit": [
        md("""
# Step 4d: layer sizes, files and the storage audit

An image is a stack of layers; each layer is a tar archive of files. Files a
later layer overwrites or deletes still take space in the earlier layer:
wasted bytes. A registry stores each layer once however many images use it,
so what images *claim* (logical size) and what the registry *stores* differ.
"""),
        code(START),
        code("layers = rk.layers(f'{lab.host}/samples/webapp:v1.3.0')\nrk.frames.readable(layers)"),
        code("fig = rk.plots.layer_sizes(layers)\nfig"),
        md(
            "## Files and wasted space\n`rk.files` reads only the tar headers of each "
            "layer, streamed from the registry."
        ),
        code(
            "files = rk.files(f'{lab.host}/samples/bloated:1.0')\n"
            "rk.frames.readable(files[files['path'].str.startswith('data')])"
        ),
        code(
            "waste = rk.waste(f'{lab.host}/samples/bloated:1.0')\n"
            "print(f\"wasted {waste.attrs['wasted_bytes']:,} bytes, "
            "efficiency {waste.attrs['efficiency']:.1%}\")\nrk.frames.readable(waste)"
        ),
        code("fig = rk.plots.largest_files(files)\nfig"),
        md(
            "## The storage audit\n"
            "Per repository, `stored_size` counts each blob once and `shared_size` is the "
            "part other repositories also use; `unique_size` is the rest, the bytes only "
            "that repository holds: what deleting it would free (summing sizes would "
            "double-count shared layers). The registry total below counts every shared "
            "layer once."
        ),
        code("audit = rk.audit(lab.host)\nrk.frames.readable(audit)"),
        code(
            "# what the images claim, and what the registry stores (shared layers once)\n"
            "rk.frames.readable(rk.audit_total(audit))"
        ),
        code("fig = rk.plots.audit(audit)\nfig"),
        commands(
            [
                (
                    "rk.layers(image)",
                    "docker history IMAGE",
                    "podman history IMAGE",
                    "skopeo inspect docker://IMAGE",
                ),
                ("rk.waste(image)", "(dive IMAGE)", "(dive IMAGE)", "(none)"),
                ("rk.audit(host)", "(none)", "(none)", "(none)"),
            ]
        ),
        code(STOP),
    ],
    "08_copy_between_registries": [
        md("""
# Step 4e: copy between registries

A copy streams layers from one registry to another without touching disk.
Layers the destination already has are skipped, and inside one registry
they are *mounted* from another repository instead of uploaded. The manifest
goes last, so a failed copy never leaves a broken image behind.
"""),
        code(START),
        code("mirror = rk.LocalRegistry().start()\nprint(mirror.url)"),
        code(
            "result = rk.copy(f'{lab.host}/samples/api:2.1.0', f'{mirror.host}/api:2.1.0')\nresult"
        ),
        md("Copying again moves nothing: every blob is already there."),
        code(
            "again = rk.copy(f'{lab.host}/samples/api:2.1.0', f'{mirror.host}/api:2.1.0')\n"
            "again.bytes_copied, again.bytes_skipped"
        ),
        md("Within one registry, layers are mounted:"),
        code(
            "mounted = rk.copy(f'{lab.host}/samples/worker:0.9.0', "
            "f'{lab.host}/team/worker:0.9.0')\nmounted.bytes_copied, mounted.bytes_mounted"
        ),
        md("Only some platforms: a new index is written, so its digest differs."),
        code(
            "subset = rk.copy(f'{lab.host}/samples/base:1.0', f'{mirror.host}/base:1.0-arm',\n"
            "                 platforms=['linux/arm64'])\nprint(subset)"
        ),
        md(
            "## Sync\n`rk.sync_plan` compares digests first; `rk.sync` copies only tags "
            "that differ."
        ),
        code(
            "rk.frames.readable(rk.sync_plan(f'{lab.host}/samples/webapp', "
            "f'{mirror.host}/webapp', tags='v1.*'))"
        ),
        code("print(rk.sync(f'{lab.host}/samples/webapp', f'{mirror.host}/webapp', tags='v1.*'))"),
        code(
            "rk.frames.readable(rk.sync_plan(f'{lab.host}/samples/webapp', "
            "f'{mirror.host}/webapp', tags='v1.*'))"
        ),
        md("The copy form does the same from a form:"),
        code(
            "rk.widgets.CopyForm(f'{lab.host}/samples/hello:latest', f'{mirror.host}/hello:latest')"
        ),
        commands(
            [
                (
                    "rk.copy(src, dst)",
                    "docker pull SRC && docker tag SRC DST && docker push DST",
                    "podman pull / tag / push",
                    "skopeo copy docker://SRC docker://DST",
                ),
                (
                    "rk.copy(..., all_tags=True)",
                    "docker push --all-tags REPO",
                    "podman push --all-tags",
                    "skopeo sync --src docker --dest docker SRC DST",
                ),
                ("rk.sync(src, dst)", "(none)", "(none)", "skopeo sync ..."),
            ]
        ),
        code("mirror.stop()\nlab.stop()"),
    ],
    "09_delete_and_retention": [
        md("""
# Step 4f: delete and retention

Registries delete *manifests*, by digest, and a manifest delete removes every
tag that points to it. `rk.delete` therefore shows the plan first: every tag
sharing the digest, and referrers such as signatures. Space comes back only
after the registry's garbage collection.
"""),
        code(START),
        code("plan = rk.delete(f'{lab.host}/samples/webapp:stable', dry_run=True)\nplan"),
        md("`untag_only=True` removes just one tag and keeps its siblings:"),
        code(
            "print(rk.delete(f'{lab.host}/samples/webapp:stable', untag_only=True))\n"
            "sorted(rk.tags(f'{lab.host}/samples/webapp')['tag'])"
        ),
        md("""
## Retention over images, not tags

A retention plan decides per *image* (digest), then lists every tag:

* `keep_last=2` keeps the two newest images with **all** their tags: v1.4.0
  also carries `latest`, a date tag and a git SHA, and none of them is cut loose;
* an index is kept with all its platform manifests (cleanup tools that delete
  "untagged" manifests break multi-arch images this way);
* referrers (the signature under the `sha256-<hex>` tag) follow their subject:
  kept with it, deleted with it, and `reason` says so;
* an age rule (`older_than='90d'`) never deletes an image without a date;
* `freed_bytes` counts only the bytes the deleted images alone hold: a base
  layer a kept image shares is not freed.
"""),
        code(
            "plan = rk.retention_plan(f'{lab.host}/samples/webapp', keep_last=2, "
            "keep=['latest'])\n"
            "rk.frames.readable(plan[['tag', 'date', 'size', 'action', 'method', 'reason']])"
        ),
        code(
            "print(f\"frees {plan.attrs['freed_bytes'] / 2**20:.2f} MiB \"\n"
            '      "once the registry collects garbage")'
        ),
        code("print(rk.apply(plan))\nsorted(rk.tags(f'{lab.host}/samples/webapp')['tag'])"),
        md("""
## Untag-only, the registry's own way

Removing one tag while its image stays is done differently on each registry;
`method` in the plan and in every result says which way was used:

* `tag delete`: `DELETE /v2/<name>/manifests/<tag>`, the OCI 1.1 way
  (distribution 3, Quay, GCR, Artifact Registry);
* `manifest delete`: the tag is pointed at a unique throwaway manifest, which
  is then deleted (CNCF distribution 2.x as here, Harbor, ACR);
* `hub tag api`: Docker Hub's tag API;
* `github packages api`: on GHCR, the throwaway, deleted through GitHub's
  packages API;
* `gitlab tag api` and `gitlab bulk delete`: GitLab's tags API; a whole
  retention plan goes as one bulk delete (`name_regex_delete`);
* `ecr batch-delete-image`: `aws ecr batch-delete-image` (ECR deletes an
  image with its last tag);
* `not supported`: the registry deletes nothing (say, distribution with
  `storage.delete.enabled: false`); refused before anything is written.

registrykit probes a registry it does not know (DELETEs of a tag and a digest
that cannot exist) on the first untag, never while planning: until then a plan says
`tag delete, else manifest delete`. The local registry answers the probe with
400, so the `untag_only` delete above used `manifest delete`.

## Docker Hub's pull quota

On Docker Hub a manifest GET counts as a pull (a multi-arch pull counts once
per architecture); a HEAD does not. `rk.rate_limit()` reads what remains from a
HEAD, at no cost. Listings of Docker Hub (`rk.tags`, `rk.tag_history`,
`rk.audit`, `rk.catalog('docker.io/NAMESPACE')`) use Hub's own API for tags,
digests, sizes and push times and send no manifest GET; a call that needs more
pulls than remain (a retention plan reads manifests to count `freed_bytes`)
refuses first with `RateLimited` and the numbers.
"""),
        md("The delete form: Delete stays disabled until a preview ran and the box is ticked."),
        code("rk.widgets.DeleteForm(f'{lab.host}/samples/worker:0.9.0')"),
        commands(
            [
                (
                    "rk.delete(image, dry_run=True)",
                    "(none)",
                    "(none)",
                    "skopeo inspect (then curl)",
                ),
                (
                    "rk.delete(image)",
                    "(Hub web UI / API)",
                    "(podman rmi deletes locally only)",
                    "skopeo delete docker://IMAGE",
                ),
            ]
        ),
        code(STOP),
    ],
    "10_verify_and_report": [
        md("""
# Step 5: verify and report

After a push or a copy, check what the registry really holds: the digest,
the size, the tags, and the commands someone else would use to pull and
check the image.
"""),
        code(START),
        code(
            "result = rk.copy(f'{lab.host}/samples/webapp:v1.4.0', "
            "f'{lab.host}/release/webapp:v1.4.0')\nprint(result)"
        ),
        code(
            "info = rk.inspect(f'{lab.host}/release/webapp:v1.4.0')\n"
            "assert info.digest == result.digest\nprint(info.digest, info.size)"
        ),
        code(
            "rk.frames.readable(rk.tags(f'{lab.host}/release/webapp'))[['tag', 'digest', 'size']]"
        ),
        md("The report to hand on: what was released, and how anyone can check it."),
        code(
            "from IPython.display import Markdown\n\n"
            "image = f'{lab.host}/release/webapp:v1.4.0'\n"
            "Markdown(\n"
            "    f'### Released `{image}`\\n\\n'\n"
            "    '| what | value |\\n| --- | --- |\\n'\n"
            "    f'| digest | `{info.digest}` |\\n'\n"
            "    f'| size | {info.size / 2**20:.2f} MiB |\\n'\n"
            "    f'| pull | `docker pull {image}` |\\n'\n"
            "    f'| verify | `skopeo inspect docker://{image}` |'\n"
            ")"
        ),
        md("The browser combines the pieces: registry, repository, tag, history and layers."),
        code("rk.widgets.RegistryBrowser(lab.host)"),
        commands(
            [
                (
                    "rk.inspect(image).digest",
                    "docker inspect --format '{{.RepoDigests}}'",
                    "podman inspect",
                    "skopeo inspect docker://IMAGE | jq -r .Digest",
                ),
            ]
        ),
        code(STOP),
    ],
}


def build(name: str, cells: list[nbformat.NotebookNode]) -> Path:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = HERE / f"{name}.ipynb"
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return path


def main(prefixes: list[str]) -> None:
    os.environ["TQDM_DISABLE"] = "1"
    for name, cells in NOTEBOOKS.items():
        if not prefixes or any(name.startswith(p) for p in prefixes):
            print("built", build(name, cells))


if __name__ == "__main__":
    main(sys.argv[1:])
