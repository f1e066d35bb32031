"""Image references: the distribution/reference grammar, parsed strictly.

Everything registrykit does starts from a reference, so a mistake here would
send a request to the wrong registry or the wrong repository. The grammar is
the one of ``distribution/reference`` (``regexp.go``, ``normalize.go``), the
one docker, podman, skopeo and every registry use::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component { "/" path-component }
    domain     := host [ ":" port ]            host: DNS name or [IPv6]
    component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex

Docker Hub's normalisation is applied the way docker does it (``nginx`` is
``docker.io/library/nginx:latest``), and nothing is stripped or guessed
silently: whitespace, a ``docker://`` prefix or an uppercase repository are
errors whose message names the offending part and says what is allowed,
because a "fixed" reference that points somewhere else is worse than an error.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import InvalidReference
from .hosts import DOCKER_HUB, canonical_host

__all__ = [
    "DOCKER_HUB",
    "NAME_TOTAL_LENGTH_MAX",
    "Reference",
    "digest_problem",
    "parse_reference",
    "parse_repository",
    "location_problem",
    "repository_problem",
    "tag_problem",
    "valid_names",
    "validate_digest",
]

log = logging.getLogger(__name__)

NAME_TOTAL_LENGTH_MAX = 255
"""distribution's limit on the name (domain and path, as written)."""

_OFFICIAL_PREFIX = "library/"
_TAG_MAX = 128

_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", re.ASCII)
_HOSTNAME_RE = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*",
    re.ASCII,
)
_PORT_RE = re.compile(r"[0-9]+", re.ASCII)
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_HEX_RE = re.compile(r"[0-9a-f]+", re.ASCII)
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

# The algorithms the OCI image spec registers, and their hex lengths. Nothing
# else is accepted: a digest becomes a file name and a claim to verify, so
# an algorithm we cannot compute must never get that far.
_DIGEST_ALGORITHMS = {"sha256": 64, "sha512": 128}

_ProblemOf = Callable[[object], str | None]

_COMPONENT_RULE = (
    "path components are lowercase letters and digits, separated by '.', '_', '__' "
    "or runs of '-', starting and ending with a letter or digit"
)
_TAG_RULE = (
    "a tag is 1 to 128 characters of letters, digits, '_', '.' and '-', "
    "not starting with '.' or '-'"
)
_HOST_RULE = (
    "a registry host is a DNS name (letters, digits, '-' and '.'), 'localhost' "
    "or an IPv6 address in brackets, optionally followed by ':port'"
)


def _quote(s: str, limit: int = 80) -> str:
    """Repr a piece of input, shortened so a 300-character name stays readable."""
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return repr(s)


def _error(reference: str, problem: str) -> InvalidReference:
    """Build the error with the whole input in it, so the user sees what was parsed."""
    return InvalidReference(f"invalid image reference {_quote(reference)}: {problem}")


def _digest_problem(digest: str) -> str | None:
    """Say what is wrong with a digest, or None; shared by every caller that checks one."""
    if not digest:
        return "the digest after '@' is empty; a digest is 'sha256:' followed by 64 hex digits"
    algorithm, sep, hex_part = digest.partition(":")
    if not sep:
        return (
            f"digest {_quote(digest)} has no algorithm; a digest is 'algorithm:hex', "
            "e.g. 'sha256:' followed by 64 hex digits"
        )
    known = ", ".join(sorted(_DIGEST_ALGORITHMS))
    if algorithm not in _DIGEST_ALGORITHMS:
        return (
            f"unsupported digest algorithm {algorithm!r} in {_quote(digest)}: "
            f"registrykit accepts only {known}"
        )
    length = _DIGEST_ALGORITHMS[algorithm]
    if _HEX_RE.fullmatch(hex_part) is None:
        if hex_part and _HEX_RE.fullmatch(hex_part.lower()):
            return f"{algorithm} digest {_quote(digest)} must use lowercase hex digits"
        return (
            f"{algorithm} digest {_quote(digest)} must be followed by {length} "
            "lowercase hex digits (0-9, a-f)"
        )
    if len(hex_part) != length:
        return (
            f"{algorithm} digest {_quote(digest)} needs exactly {length} hex digits, "
            f"got {len(hex_part)}"
        )
    return None


def validate_digest(s: str) -> str:
    """Return ``s`` if it is a digest registrykit can verify, else raise.

    Content is checked against its digest after download, so a digest with an
    unknown algorithm or the wrong length could never be verified; failing
    early gives a better message than a mismatch later.
    """
    if not isinstance(s, str):
        raise InvalidReference(f"a digest must be a string, not {type(s).__name__}")
    problem = _digest_problem(s)
    if problem is not None:
        raise InvalidReference(f"invalid digest: {problem}")
    return s


def digest_problem(digest: object) -> str | None:
    """What is wrong with a digest a registry or a file sent (any JSON value), or None."""
    if not isinstance(digest, str):
        return f"a digest must be a string, not {type(digest).__name__}"
    return _digest_problem(digest)


def tag_problem(tag: object) -> str | None:
    """What is wrong with a tag a registry or a file sent (any JSON value), or None."""
    if not isinstance(tag, str):
        return f"a tag must be a string, not {type(tag).__name__}"
    return _tag_problem(tag)


def repository_problem(name: object) -> str | None:
    """What is wrong with a repository path a registry sent (``team/app``), or None."""
    if not isinstance(name, str):
        return f"a repository name must be a string, not {type(name).__name__}"
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        return (
            f"repository {_quote(name)} is {len(name)} characters long; "
            f"a name has at most {NAME_TOTAL_LENGTH_MAX}"
        )
    return _path_problem(name)


def valid_names(names: Iterable[str], problem_of: _ProblemOf, source: str) -> list[str]:
    """``names`` that pass ``problem_of`` (``tag_problem``, ``repository_problem``).

    Names from a registry or a file become URL paths, file names and terminal
    output, so one that breaks the grammar is dropped with a warning (its
    problem quotes it with ``repr``, escaping control characters) rather than
    failing the whole listing.
    """
    kept: list[str] = []
    for name in names:
        problem = problem_of(name)
        if problem is None:
            kept.append(name)
        else:
            log.warning("%s: skipping a name that breaks the grammar: %s", source, problem)
    return kept


def _tag_problem(tag: str) -> str | None:
    """Say what is wrong with a tag, or None."""
    if not tag:
        return "the tag after ':' is empty; " + _TAG_RULE
    if len(tag) > _TAG_MAX:
        return f"tag {_quote(tag)} is {len(tag)} characters long; a tag has at most 128"
    if _TAG_RE.fullmatch(tag) is None:
        return f"invalid tag {_quote(tag)}: {_TAG_RULE}"
    return None


def _host_problem(domain: str) -> str | None:
    """Say what is wrong with a registry ``host[:port]``, or None."""
    if not domain:
        return "the registry host is empty; " + _HOST_RULE
    if domain.startswith("["):
        end = domain.find("]")
        if end == -1:
            return f"registry host {_quote(domain)} has no closing ']' for its IPv6 address"
        literal, rest = domain[1:end], domain[end + 1 :]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return f"registry host {_quote(domain)}: {literal!r} is not an IPv6 address"
        if "%" in literal:
            return f"registry host {_quote(domain)}: IPv6 zone identifiers are not allowed"
        if rest and not rest.startswith(":"):
            return f"registry host {_quote(domain)}: only ':port' may follow ']'"
        port = rest[1:] if rest else None
    else:
        hostname, sep, port_part = domain.partition(":")
        port = port_part if sep else None
        if _HOSTNAME_RE.fullmatch(hostname) is None:
            return f"invalid registry host {_quote(domain)}: {_HOST_RULE}"
    if port is not None and (_PORT_RE.fullmatch(port) is None or not 1 <= int(port) <= 65535):
        return (
            f"invalid port {port!r} in registry host {_quote(domain)}: "
            "a port is a number from 1 to 65535"
        )
    return None


def _looks_like_domain(component: str) -> bool:
    """Decide, as docker does, whether the first path component names a registry."""
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component.startswith("[")
    )


def location_problem(location: str) -> str | None:
    """What is wrong with a ``host[:port][/namespace]`` location (a mirror), or None.

    A location from a config file becomes a URL and log text: it may carry
    neither credentials (``user:pw@host``) nor a query, only a host and a path.
    """
    host, _, path = location.partition("/")
    return _host_problem(host) or (_path_problem(path) if path else None)


def _path_problem(path: str) -> str | None:
    """Say what is wrong with a repository path, or None."""
    if not path:
        return "the repository name is empty"
    if path.endswith("/") and not path.startswith("/") and "//" not in path:
        return f"repository {_quote(path)} ends with '/'; remove the trailing slash"
    for component in path.split("/"):
        if not component:
            return (
                f"repository {_quote(path)} has an empty path component "
                "(a leading '/', '//' or a trailing '/')"
            )
        if ":" in component:
            return (
                f"path component {_quote(component)} contains ':'; a ':' may appear once after "
                "the repository to start the tag, or in the registry host before its port"
            )
        if _COMPONENT_RE.fullmatch(component) is None:
            if component != component.lower() and _COMPONENT_RE.fullmatch(component.lower()):
                return f"repository names must be lowercase: {_quote(path)} has {component!r}"
            return f"invalid path component {_quote(component)} in {_quote(path)}: " + (
                _COMPONENT_RULE
            )
    return None


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference.

    ``registry`` is the normalised ``host[:port]`` (``docker.io`` for Docker
    Hub), ``repository`` the path (``library/nginx``), and ``tag`` and
    ``digest`` are optional. The fields are checked on construction so that a
    ``Reference`` built by hand is as trustworthy as a parsed one.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        """Validate and normalise, so every Reference maps to one request path."""
        shown = f"{self.registry}/{self.repository}"
        problem = _host_problem(self.registry)
        if problem is None:
            problem = _path_problem(self.repository)
        if problem is None and self.tag is not None:
            problem = _tag_problem(self.tag)
        if problem is None and self.digest is not None:
            problem = _digest_problem(self.digest)
        if problem is not None:
            raise _error(shown, problem)
        registry = canonical_host(self.registry)
        repository = self.repository
        if registry == DOCKER_HUB and "/" not in repository:
            repository = _OFFICIAL_PREFIX + repository
        object.__setattr__(self, "registry", registry)
        object.__setattr__(self, "repository", repository)

    @property
    def name(self) -> str:
        """``registry/repository``: the name without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What goes into ``/v2/<repository>/manifests/<identifier>``.

        The digest wins over the tag because it pins the content: a tag can
        move between two requests, a digest cannot.
        """
        if self.digest is not None:
            return self.digest
        if self.tag is not None:
            return self.tag
        raise InvalidReference(
            f"{self.name!r} names a repository only; add ':tag' or '@digest' to name an image"
        )

    @property
    def familiar(self) -> str:
        """Docker's short form (``nginx:latest``, ``user/app:v1``), for display.

        Only Docker Hub names are shortened: everywhere else the registry is
        part of what a person needs to copy and paste.
        """
        if self.registry != DOCKER_HUB:
            return str(self)
        name = self.repository
        if name.startswith(_OFFICIAL_PREFIX) and "/" not in name[len(_OFFICIAL_PREFIX) :]:
            name = name[len(_OFFICIAL_PREFIX) :]
        return name + self._suffix()

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag is not None else "") + (
            f"@{self.digest}" if self.digest is not None else ""
        )

    def with_tag(self, tag: str) -> Reference:
        """The same repository at ``tag``; the digest is dropped.

        A digest would win over the new tag as the identifier, so keeping it
        would silently make the new tag meaningless.
        """
        return dataclasses.replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to ``digest``; the tag is kept for display."""
        return dataclasses.replace(self, digest=validate_digest(digest))

    def repository_only(self) -> Reference:
        """The repository without tag or digest, for repository-wide calls."""
        return dataclasses.replace(self, tag=None, digest=None)

    def __str__(self) -> str:
        return self.name + self._suffix()

    def __repr__(self) -> str:
        return f"Reference({str(self)!r})"


def _split(s: str) -> tuple[str, str | None, str | None]:
    """Split ``name[:tag][@digest]`` after the checks that apply to the whole input."""
    if not isinstance(s, str):
        raise InvalidReference(f"an image reference must be a string, not {type(s).__name__}")
    if not s:
        raise InvalidReference("invalid image reference '': the reference is empty")
    if s != s.strip():
        raise _error(s, "it has leading or trailing whitespace; remove it")
    if any(c.isspace() for c in s):
        raise _error(s, "it contains whitespace, which no part of a reference allows")
    if not s.isascii():
        raise _error(s, "it contains non-ASCII characters, which no part of a reference allows")
    scheme = _SCHEME_RE.match(s)
    if scheme is not None:
        if scheme.group(1).lower() == "docker":
            raise _error(s, "drop the docker:// prefix; it is a transport, not part of a reference")
        raise _error(
            s,
            f"a reference has no {scheme.group(1)}:// prefix; "
            "write 'registry/repository:tag' without a scheme",
        )
    name, at, digest = s.partition("@")
    if at and "@" in digest:
        raise _error(s, "it has more than one '@'; only one digest may follow the name")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, (digest if at else None)


def parse_reference(s: str, *, default_tag: str | None = "latest") -> Reference:
    """Parse an image reference the way docker does, strictly.

    ``default_tag`` is used when neither a tag nor a digest is given (docker
    pulls ``latest`` then); pass None to get a repository-only reference.
    Raises ``InvalidReference`` (a ValueError) naming the part that is wrong.
    """
    name, tag, digest = _split(s)
    if not name:
        raise _error(s, "the repository name is empty")
    first, slash, rest = name.partition("/")
    if slash and _looks_like_domain(first):
        domain, path = first, rest
        problem = _host_problem(domain)
        if problem is not None:
            raise _error(s, problem)
    else:
        domain, path = "", name
    problem = _path_problem(path)
    if problem is not None:
        if problem.startswith("repository names must be lowercase"):
            suggestion = (f"{domain}/" if domain else "") + path.lower()
            suggestion += s[len(name) :]
            problem += f" (try {_quote(suggestion)})"
        raise _error(s, problem)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise _error(
            s,
            f"the name is {len(name)} characters long; registry and repository "
            f"together may have at most {NAME_TOTAL_LENGTH_MAX}",
        )
    if tag is not None:
        problem = _tag_problem(tag)
        if problem is not None:
            raise _error(s, problem)
    if digest is not None:
        problem = _digest_problem(digest)
        if problem is not None:
            raise _error(s, problem)
    if tag is None and digest is None and default_tag is not None:
        problem = _tag_problem(default_tag)
        if problem is not None:
            raise InvalidReference(f"invalid default_tag: {problem}")
        tag = default_tag
    return Reference(domain or DOCKER_HUB, path, tag, digest)


def parse_repository(s: str) -> Reference:
    """Parse a repository name, refusing a tag or digest.

    Repository-wide calls (listing tags, copying all tags) would otherwise
    ignore a tag the user may have meant to matter, so it is an error instead.
    """
    ref = parse_reference(s, default_tag=None)
    if ref.tag is not None or ref.digest is not None:
        if ref.digest is None:
            given = "a tag"
        else:
            given = "a digest" if ref.tag is None else "a tag and digest"
        hint = ""
        if ref.tag is not None and ref.tag.isdigit() and "/" not in s:
            hint = f" (if {s.split('@')[0]!r} is a registry host, add '/repository' after it)"
        raise _error(
            s,
            f"a repository is expected, but {given} was given; drop it and "
            f"write {ref.repository_only().familiar!r}{hint}",
        )
    return ref
