"""``RegistryClient``: the ``/v2/`` endpoints of one registry.

Paging, digest checks, size limits and errors live here; nothing above this
layer builds a URL. Every manifest and blob that comes back is checked
against its digest, and manifests fetched by digest are cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .._model import mediatypes as mt
from .._model.errors import NotFound, RegistryError
from .._model.manifest import Descriptor, Index, field_list, json_object
from .._model.reference import repository_problem, tag_problem, valid_names
from .blobs import BlobEndpoints
from .manifests import ManifestEndpoints
from .session import MAX_ENTRIES, MAX_PAGE_SIZE

__all__ = ["Ping", "RegistryClient"]


@dataclass(frozen=True)
class Ping:
    """What ``GET /v2/`` said: reachable, and which auth it asks for."""

    url: str
    status: int
    auth_scheme: str | None
    api_version: str | None


class RegistryClient(ManifestEndpoints, BlobEndpoints):
    """The registry API of one host. Obtain it from ``Client.registry(host)``."""

    # -- endpoints -----------------------------------------------------------

    def ping(self) -> Ping:
        """``GET /v2/`` without credentials: is it a registry, and how does it want auth?"""
        response = self._send(
            "GET", self._url(""), what="the API root /v2/", auth=False, accept=(401,)
        )
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code not in (200, 401):
            raise RegistryError(f"{self.host} answered /v2/ with HTTP {response.status_code}")
        return Ping(
            url=self._url(""),
            status=response.status_code,
            auth_scheme=challenge.split(" ", 1)[0].lower() or None if challenge else None,
            api_version=response.headers.get("docker-distribution-api-version"),
        )

    def check_login(self) -> None:
        """``GET /v2/`` with credentials (through the token flow); raises if refused."""
        self._send("GET", self._url(""), what="the API root /v2/")

    def catalog(self, page_size: int = 1000) -> Iterator[str]:
        """Every repository name, following ``Link`` headers page by page.

        Names that break the repository grammar are skipped with a warning.
        """
        what = f"catalog of {self.host}"
        pages = self._pages(self._url("_catalog"), page_size, what)
        yield from self._names(pages, "repositories", repository_problem, what)

    def tags(self, repository: str, page_size: int = 1000) -> list[str]:
        """All tags of ``repository`` (an empty list when it has none).

        Tags that break the tag grammar are skipped with a warning.
        """
        what = f"tag list of {self.host}/{repository}"

        def listed(base: str | None, name: str) -> list[str]:
            # A mirror's list may lag behind the registry's; the log says which answered.
            url = self._object_url(name, "tags", "list", base)
            return list(self._names(self._pages(url, page_size, what), "tags", tag_problem, what))

        return self._or_mirror(repository, False, listed, what)

    def _names(
        self,
        pages: Iterator[dict[str, object]],
        key: str,
        problem_of: Callable[[object], str | None],
        what: str,
    ) -> Iterator[str]:
        """The ``key`` array of every page: strings only, grammar-checked, bounded in number."""
        count = 0
        for page in pages:
            # A repository whose tags were all deleted answers "tags": null.
            names = field_list(page.get(key), f"the {what}: {key}")
            for i, name in enumerate(names):
                if not isinstance(name, str):
                    raise RegistryError(
                        f"the {what}: {key}[{i}] must be a string, not {type(name).__name__}"
                    )
            count += len(names)
            if count > MAX_ENTRIES:
                raise RegistryError(f"the {what} has more than {MAX_ENTRIES} entries; stopping")
            yield from valid_names(names, problem_of, f"the {what}")

    # -- referrers -------------------------------------------------------------

    def referrers(
        self, repository: str, digest: str, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """Manifests whose ``subject`` is ``digest`` (signatures, SBOMs, ...).

        Uses the referrers API, or the ``sha256-<hex>`` tag schema when the
        registry does not offer it (distribution 2.x does not).
        """
        params = {"artifactType": artifact_type} if artifact_type else None
        what = f"referrers of {self.host}/{repository}@{digest[:19]}"
        try:
            response = self._send(
                "GET",
                self._object_url(repository, "referrers", digest),
                params=params,
                headers={"Accept": mt.OCI_INDEX},
                what=what,
                limit=MAX_PAGE_SIZE,
            )
            content_type = response.headers.get("content-type", "")
            if content_type.startswith(mt.OCI_INDEX):
                entries = field_list(json_object(response.content, what).get("manifests"), what)
                found = [
                    Descriptor.from_json(d, f"{what}: manifests[{i}]")
                    for i, d in enumerate(entries)
                ]
                return [d for d in found if artifact_type in (None, d.artifact_type)]
        except NotFound:
            pass
        fallback_tag = digest.replace(":", "-", 1)
        try:
            index = self.manifest(repository, fallback_tag)
        except NotFound:
            return []
        if not isinstance(index, Index):
            return []
        return [d for d in index.manifests if artifact_type in (None, d.artifact_type)]
