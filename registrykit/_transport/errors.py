"""Turn HTTP responses and transport failures into registrykit errors.

One place decides which error a response means and what remedy to suggest,
so every endpoint reports the same way (go-containerregistry's
``transport.CheckError`` plays this role there).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import ssl
import time
from typing import Any

import httpx

from .._credentials.process import scrub
from .._model import errors as err

_NOT_FOUND_CODES = {"NAME_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"}
# An error answer is a few hundred bytes: its errors[] fits easily; the rest is cut.
MAX_ERROR_BODY = 64 * 1024
# At most this many of a registry's errors[] entries are kept.
_MAX_ERRORS = 8


def read_capped(
    response: httpx.Response, cap: int, what: str, *, host: str, deadline: float | None = None
) -> bytes:
    """Up to ``cap`` bytes of ``response``'s body (the rest is dropped), then it is closed.

    The one bounded reader of the package. ``deadline`` (a ``time.monotonic()``
    value) bounds a body that drips: past it, ``RegistryUnavailable``.
    """
    # A response built from bytes (a mock, a test) is already read: bounded all the same.
    chunks = [response.content] if response.is_stream_consumed else response.iter_bytes()
    parts: list[bytes] = []
    total = 0
    try:
        for chunk in chunks:
            parts.append(chunk[: cap - total])
            total += len(parts[-1])
            if total >= cap:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise err.RegistryUnavailable(
                    f"{host} sent {what} too slowly: {total} bytes before the deadline. "
                    "Check the network; retry later."
                )
    except httpx.TransportError as exc:
        raise transport_error(exc, host) from None
    finally:
        response.close()
    return b"".join(parts)


def read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    """The whole body of ``response``, refusing more than ``limit`` bytes.

    The body is kept on the response, so later ``.content`` / ``.json()`` see it.
    """
    request = response._request  # None for a response built by hand (a mock)
    host = request.url.host if request is not None else "the registry"
    body = read_capped(response, limit + 1, what, host=host)
    if len(body) > limit:
        raise err.RegistryError(
            f"{what} is larger than {limit // 1024} KiB; refusing to read more",
            status=response.status_code,
        )
    response._content = body
    return body


def registry_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``errors[]`` list of an error response (empty when there is none).

    The registry wrote it: each code, message and detail is scrubbed of every
    secret the client sent and of control characters, and kept short.
    """
    try:
        if response.is_stream_consumed:
            content = response.content
        else:
            content = read_bounded(response, MAX_ERROR_BODY, "error answer")
        body = json.loads(content or b"{}")
    except (ValueError, httpx.HTTPError, httpx.StreamError, err.RegistryError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [_scrubbed(e) for e in errors[:_MAX_ERRORS] if isinstance(e, dict)]


def _scrubbed(entry: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for key in ("code", "message", "detail"):
        value = entry.get(key)
        if value is not None and value != "":
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            kept[key] = scrub(text, limit=200)
    return kept


def retry_after(response: httpx.Response) -> dt.datetime | None:
    """When to try again, from Retry-After (seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    now = dt.datetime.now(dt.UTC)
    if value:
        if value.strip().isdigit():
            return now + dt.timedelta(seconds=int(value))
        try:
            return email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
        except (TypeError, ValueError):
            return None
    reset = response.headers.get("ratelimit-reset") or response.headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        number = int(reset)
        # Some registries send an epoch, others seconds from now.
        if number > 1_000_000_000:
            return dt.datetime.fromtimestamp(number, dt.UTC)
        return now + dt.timedelta(seconds=number)
    return None


def _summary(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors:
        text = str(e.get("code", ""))
        if e.get("message"):
            text += f": {e['message']}"
        parts.append(text)
    return scrub("; ".join(parts))


def raise_for_response(response: httpx.Response, what: str, *, host: str | None = None) -> None:
    """Raise the registrykit error that ``response`` means, if it is an error.

    ``what`` says what was being done ("manifest nginx:latest", "tag list of
    library/nginx") so the message reads naturally.
    """
    status = response.status_code
    if status < 400:
        return
    errors = registry_errors(response)
    codes = {str(e.get("code", "")) for e in errors}
    detail = _summary(errors)
    registry = host or response.request.url.netloc.decode("ascii", "replace")
    url = scrub(str(response.request.url.copy_with(query=None)), limit=1000)
    kw: dict[str, Any] = {"status": status, "errors": errors, "url": url}
    suffix = f" ({detail})" if detail else ""

    if status == 401 or "UNAUTHORIZED" in codes:
        raise err.AuthenticationError(
            f"{registry} refused access to {what}: authentication required{suffix}. "
            f"Log in with rk.login({registry!r}, username, password) (or docker/podman "
            "login); if you are logged in, check that the token has not expired and "
            "covers this repository.",
            **kw,
        )
    if status == 403 or "DENIED" in codes:
        raise err.PermissionDenied(
            f"{registry} denied {what}{suffix}. The credentials are valid but lack the "
            "permission: check the token's scope (e.g. write:packages, push rights) and "
            "your access to the namespace; the repository may need creating first.",
            **kw,
        )
    if status == 429 or "TOOMANYREQUESTS" in codes:
        reset = retry_after(response)
        when = f" until {reset:%Y-%m-%d %H:%M:%S} UTC" if reset else ""
        raise err.RateLimited(
            f"{registry} is rate-limiting requests{when}{suffix}. Wait and retry; on "
            "Docker Hub, logging in raises the pull limit (or use a registry mirror).",
            reset=reset,
            **kw,
        )
    if status == 404 or codes & _NOT_FOUND_CODES:
        raise err.NotFound(
            f"{what} not found on {registry}{suffix}. Check the repository name and tag "
            "(rk.catalog / rk.tags list what exists) and that the image was pushed.",
            **kw,
        )
    if status == 405 or "UNSUPPORTED" in codes:
        raise err.Unsupported(
            f"{registry} does not support this operation on {what}{suffix}. "
            "For deletes on a distribution registry set storage.delete.enabled: true "
            "(REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it.",
            **kw,
        )
    if status >= 500:
        raise err.RegistryUnavailable(
            f"{registry} is unavailable (HTTP {status}) while accessing {what}{suffix}. "
            "Retry later; check the registry's health.",
            **kw,
        )
    raise err.RegistryError(f"{registry} answered HTTP {status} for {what}{suffix}", **kw)


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        text = str(seen)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_plain_http_answer(exc: BaseException) -> bool:
    """True when a TLS handshake failed because the server speaks plain HTTP.

    OpenSSL reports that as a protocol error ("wrong version number",
    "record layer failure", "packet length too long"), never as a
    certificate error, so certificate failures never trigger an http fallback.
    """
    if _is_certificate_error(exc):
        return False
    seen: BaseException | None = exc
    markers = (
        "WRONG_VERSION_NUMBER",
        "wrong version number",
        "record layer failure",
        "packet length too long",
        "RECORD_LAYER_FAILURE",
        "http request",
    )
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or any(m in str(seen) for m in markers):
            return any(m in str(seen) for m in markers)
        seen = seen.__cause__ or seen.__context__
    return False


def transport_error(exc: httpx.TransportError, host: str) -> err.RegistryKitError:
    """Map an httpx transport failure to RegistryUnavailable or TLSError."""
    if _is_certificate_error(exc):
        return err.TLSError(
            f"TLS certificate verification failed for {host}: {_reason(exc)}. Add the "
            "registry's CA with rk.Client(ca_bundle='ca.pem') or place it in "
            f"/etc/docker/certs.d/{host}/ca.crt; only for a test registry, name it "
            f"insecure with rk.Client(insecure=[{host!r}]).",
        )
    if isinstance(exc, httpx.ConnectError) and "SSL" in str(exc).upper():
        return err.TLSError(
            f"TLS handshake with {host} failed: {_reason(exc)}. If the registry serves "
            f"plain http, name it insecure: rk.Client(insecure=[{host!r}]).",
        )
    if isinstance(exc, httpx.TimeoutException):
        return err.RegistryUnavailable(
            f"{host} timed out ({type(exc).__name__}). Check the network and that the "
            "registry is up; large transfers may need a longer timeout.",
        )
    return err.RegistryUnavailable(
        f"cannot reach {host}: {_reason(exc)}. Check the host name and port, that the "
        "registry is running, and your network or proxy settings.",
    )


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return scrub(text.splitlines()[0], limit=200)
