"""``file://`` URLs for the HTTP client, so a feed or an archive on disk is fetched like any
other: 200 with the file's bytes, or 404 when there is no such file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.request import url2pathname

import httpx

CHUNK_SIZE = 64 * 1024

_LOCAL_HOST_PREFIX = "file://localhost/"


class FileTransport(httpx.BaseTransport):
    """Answers GETs of local files; a host other than ``localhost`` has no files here."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw_path = request.url.raw_path.decode("ascii").partition("?")[0]
        path = Path(url2pathname(raw_path))
        if request.url.host not in ("", "localhost") or not path.is_file():
            return httpx.Response(404, headers={"Content-Type": "text/plain"}, content=b"")
        try:
            handle = path.open("rb")
        except OSError:
            return httpx.Response(403, headers={"Content-Type": "text/plain"}, content=b"")
        size = os.fstat(handle.fileno()).st_size
        return httpx.Response(
            200, headers={"Content-Length": str(size)}, stream=_FileStream(handle)
        )


class _FileStream(httpx.SyncByteStream):
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._handle.read(CHUNK_SIZE):
            yield chunk

    def close(self) -> None:
        self._handle.close()


def sendable_url(url: str) -> str:
    """``url`` as httpx must be given it."""
    # httpx takes a URL without a host for a relative one: name the local host explicitly.
    return _LOCAL_HOST_PREFIX + url[len("file:///") :] if url.startswith("file:///") else url


def public_url(url: str) -> str:
    """``url`` as the user wrote it: undoes ``sendable_url``."""
    if url.startswith(_LOCAL_HOST_PREFIX):
        return "file:///" + url[len(_LOCAL_HOST_PREFIX) :]
    return url
